/**
 * The firmware repository over the operation store (real files in a temp dir), and the one-time import of
 * the `firmware.json` an earlier build wrote.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OperationStore } from '../../src/operations/store.js';
import { importFirmwareFile, StoreFirmwareRepository } from '../../src/firmware/storeRepository.js';
import type { FirmwareCampaign, FirmwareUpdate } from '../../src/firmware/update.js';
import { startLeshanDouble } from '../../tools/leshanDouble.js';
import { startDaemon } from '../../tools/daemon.js';
import { apiCall } from '../support/api.js';

const at = '2026-11-28T10:00:00.000Z';
const DAY = 86_400_000;
const update = (id: string, ep: string, step: FirmwareUpdate['step'], extra: Partial<FirmwareUpdate> = {}): FirmwareUpdate => ({
  id,
  ep,
  uri: 'coap://fw/1.bin',
  version: '2.0',
  status: 'RUNNING',
  step,
  attempts: 1,
  createdAt: at,
  updatedAt: at,
  timeoutAt: '2026-11-29T10:00:00.000Z',
  progress: { seq: 3, pending: { purpose: 'read_state', seq: 3 }, lastState: 1 },
  ...extra,
});
const campaign = (id: string): FirmwareCampaign =>
  ({
    id,
    uri: 'coap://fw/1.bin',
    version: '2.0',
    endpoints: ['a', 'b'],
    maxConcurrent: 1,
    started: 1,
    skipped: [],
    createdAt: at,
    updatedAt: at,
  }) as unknown as FirmwareCampaign;

describe('StoreFirmwareRepository', () => {
  let dir: string;
  let store: OperationStore;
  const open = async () => {
    store = new OperationStore({ file: path.join(dir, 'operations.json'), maxAttempts: 3, pruneAfterMs: 60_000 });
    await store.open();
    return new StoreFirmwareRepository(store);
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-fwstore-'));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps updates and campaigns across a restart, oldest first, with their ids going on', async () => {
    let repo = await open();
    const a = repo.takeId();
    const b = repo.takeId();
    await repo.put(update(b, 'dev-b', 'observing'));
    await repo.put(update(a, 'dev-a', 'downloading'));
    await repo.put(update(a, 'dev-a', 'updating', { progress: { seq: 4, executed: true } }));
    await repo.putCampaign(campaign(repo.takeCampaignId()));
    await store.close();
    repo = await open();
    assert.deepEqual(
      repo.all().map((u) => [u.id, u.step, u.progress.seq]),
      [
        ['1', 'updating', 4],
        ['2', 'observing', 3],
      ],
    );
    assert.deepEqual(repo.get('1')?.progress, { seq: 4, executed: true });
    assert.deepEqual(repo.allCampaigns(), [campaign('1')]);
    assert.equal(repo.getCampaign('1')?.endpoints.length, 2);
    assert.equal(repo.takeId(), '3');
    assert.equal(repo.takeCampaignId(), '2');
  });

  it('imports a firmware.json of the earlier build once, renames it .imported, and goes on from its next ids', async () => {
    const file = path.join(dir, 'firmware.json');
    const updates = [update('1', 'dev-a', 'verifying', { status: 'SUCCEEDED' }), update('4', 'dev-b', 'downloading', { campaignId: '2' })];
    await writeFile(file, JSON.stringify({ version: 1, nextId: 7, updates, nextCampaignId: 3, campaigns: [campaign('2')] }));
    let repo = await open();
    assert.deepEqual(await importFirmwareFile(file, store), { updates: 2, campaigns: 1 });
    assert.deepEqual(repo.all(), updates);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('firmware')),
      ['firmware.json.imported'],
    );
    assert.equal(await importFirmwareFile(file, store), undefined, 'nothing left to import');
    await store.close();
    repo = await open();
    assert.deepEqual(repo.all(), updates, 'the import is in the store, durable');
    assert.deepEqual(repo.allCampaigns(), [campaign('2')]);
    assert.equal(repo.takeId(), '7', "the file's nextId: ids it had handed out are not reused");
    assert.equal(repo.takeCampaignId(), '3');
  });

  it('refuses a firmware.json that is not one, and leaves it where it is', async () => {
    const file = path.join(dir, 'firmware.json');
    await open();
    for (const text of ['{"version":2,"nextId":1,"updates":[]}', '{"version":1,"nextId":1,"updates":{}}', '[]', 'null']) {
      await writeFile(file, text);
      await assert.rejects(importFirmwareFile(file, store), /not a firmware update file/, text);
      assert.deepEqual(
        (await readdir(dir)).filter((n) => n.startsWith('firmware')),
        ['firmware.json'],
      );
    }
    await writeFile(file, JSON.stringify({ version: 1, nextId: 2, updates: [{ ...update('1', 'a', 'observing'), id: 'one' }] }));
    await assert.rejects(importFirmwareFile(file, store), /bad id/);
    assert.deepEqual(store.allEntities('firmware'), []);
  });
});

describe('the daemon imports a firmware.json left by the earlier build (real process)', () => {
  it('serves its updates from the store, renames the file, and keeps them in the snapshot at a clean stop', async () => {
    const leshan = await startLeshanDouble({ timeScale: 0.02 });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-fwimport-'));
    const done = update('1', 'dev-old', 'verifying', { status: 'SUCCEEDED' });
    await writeFile(path.join(dataDir, 'firmware.json'), JSON.stringify({ version: 1, nextId: 5, updates: [done] }));
    const d = await startDaemon({
      dataDir,
      // kept whatever today's date (its update ended on a fixed day)
      config: { leshan: { url: leshan.url }, influx: { url: 'http://127.0.0.1:9' }, firmware: { pruneAfterMs: 100 * 365 * DAY } },
    });
    try {
      const r = await apiCall(d.url, 'GET', '/api/firmware/1');
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'SUCCEEDED');
      assert.equal(r.body.ep, 'dev-old');
      assert.deepEqual(
        (await readdir(dataDir)).filter((n) => n.startsWith('firmware')),
        ['firmware.json.imported'],
      );
      assert.equal((await d.signal('SIGTERM')).code, 0);
      const snapshot = JSON.parse(await readFile(path.join(dataDir, 'operations.json'), 'utf8')) as { firmware: { updates: unknown[] } };
      assert.deepEqual(snapshot.firmware.updates, [done]);
    } finally {
      await d.cleanup();
      await leshan.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the daemon prunes ended firmware updates (real process)', () => {
  it('removes an update that ended longer than firmware.pruneAfterMs ago at start, and keeps a recent one', async () => {
    const leshan = await startLeshanDouble({ timeScale: 0.02 });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-fwprune-'));
    const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    const old = update('1', 'dev-a', 'verifying', { status: 'SUCCEEDED', updatedAt: ago(3) });
    const recent = update('2', 'dev-b', 'verifying', { status: 'FAILED', updatedAt: ago(0.5) });
    await writeFile(path.join(dataDir, 'firmware.json'), JSON.stringify({ version: 1, nextId: 3, updates: [old, recent] }));
    const d = await startDaemon({
      dataDir,
      config: { leshan: { url: leshan.url }, influx: { url: 'http://127.0.0.1:9' }, firmware: { pruneAfterMs: DAY } },
    });
    try {
      const pruned = await d.waitForLine((l) => l.message === 'ended firmware updates pruned');
      assert.equal(pruned.updates, 1);
      assert.equal((await apiCall(d.url, 'GET', '/api/firmware/1')).status, 404);
      assert.equal((await apiCall(d.url, 'GET', '/api/firmware/2')).status, 200);
      assert.equal((await d.signal('SIGTERM')).code, 0);
      const snapshot = JSON.parse(await readFile(path.join(dataDir, 'operations.json'), 'utf8')) as {
        firmware: { updates: { id: string }[] };
      };
      assert.deepEqual(
        snapshot.firmware.updates.map((u) => u.id),
        ['2'],
      );
    } finally {
      await d.cleanup();
      await leshan.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

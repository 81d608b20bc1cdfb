/**
 * Firmware updates and campaigns in the operation store: journal records of their own type, the snapshot's
 * `firmware` member, replay, torn tails, damage and a full disk, as for operations (docs/store.md).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { decodeFrames, encodeFrames } from '../../../src/dataDir/frames.js';
import { listSegments, readSegment } from '../../../src/operations/store/journal.js';
import { StoreCorruptError, StoreUnavailableError, type OperationStore } from '../../../src/operations/store.js';
import { mountSmallDisk } from '../../support/smallDisk.js';
import { captureLog, openStore, storeEachTest, write } from './helpers.js';

interface Update {
  id: string;
  ep: string;
  step: string;
  progress: { seq: number };
}

const update = (id: string, step: string, seq: number): Update => ({ id, ep: `dev-${id}`, step, progress: { seq } });
const campaign = (id: string, started: number) => ({ id, endpoints: ['a', 'b', 'c'], started });

/** Every journal record, parsed. */
async function records(file: string): Promise<{ seq: number; type: string; put?: { id: string }; del?: string }[]> {
  const out: { seq: number; type: string }[] = [];
  for (const s of await listSegments(file))
    await readSegment(s.file, (json) => void out.push(JSON.parse(json) as { seq: number; type: string }));
  return out;
}

/** Opens a store, takes two updates through their steps and a campaign, and leaves it without close (as a crash would). */
async function crashedWith(file: string): Promise<OperationStore> {
  const s = await openStore(file);
  const a = s.takeEntityId('firmware');
  const b = s.takeEntityId('firmware');
  const c = s.takeEntityId('firmwareCampaign');
  await s.create(write('dev-1', 1));
  for (const [i, step] of ['observing', 'writing_uri', 'downloading'].entries()) {
    await Promise.all([s.putEntity('firmware', update(a, step, i)), s.putEntity('firmwareCampaign', campaign(c, i))]);
  }
  await s.putEntity('firmware', update(b, 'observing', 0));
  return s;
}

describe('OperationStore: firmware updates and campaigns', () => {
  const tmp = storeEachTest();

  it('journals each put as a record of its own type, stores a frozen copy, and replays every step after a crash', async () => {
    const crashed = await crashedWith(tmp.file);
    const types = (await records(tmp.file)).map((r) => r.type);
    assert.deepEqual(types.filter((t) => t === 'firmware').length, 4, 'one record per step of each update');
    assert.deepEqual(types.filter((t) => t === 'firmwareCampaign').length, 3);
    assert.deepEqual(types.filter((t) => t === 'operation').length, 1);
    const stored = crashed.getEntity<Update>('firmware', '1')!;
    assert.ok(Object.isFrozen(stored) && Object.isFrozen(stored.progress));
    tmp.store = await openStore(tmp.file);
    assert.deepEqual(tmp.store.allEntities('firmware'), [update('1', 'downloading', 2), update('2', 'observing', 0)]);
    assert.deepEqual(tmp.store.allEntities('firmwareCampaign'), [campaign('1', 2)]);
    assert.equal(tmp.store.size, 1, 'the operation is there too, and no update was taken for one');
    assert.equal(tmp.store.takeEntityId('firmware'), '3');
    assert.equal(tmp.store.takeEntityId('firmwareCampaign'), '2');
  });

  it('removes an update or campaign with a del record of its type; a crash after it replays the removal, a clean stop leaves it out of the snapshot', async () => {
    const crashed = await crashedWith(tmp.file);
    await Promise.all([crashed.deleteEntity('firmware', '1'), crashed.deleteEntity('firmwareCampaign', '1')]);
    await crashed.deleteEntity('firmware', '99'); // nothing to remove: no record
    const dels = (await records(tmp.file)).filter((r) => r.del !== undefined).map((r) => `${r.type} ${r.del}`);
    assert.deepEqual(dels, ['firmware 1', 'firmwareCampaign 1']);
    const reopened = await openStore(tmp.file);
    assert.deepEqual(reopened.allEntities('firmware'), [update('2', 'observing', 0)]);
    assert.deepEqual(reopened.allEntities('firmwareCampaign'), []);
    assert.equal(reopened.takeEntityId('firmware'), '3', 'a removed id is not handed out again');
    await reopened.close();
    const snapshot = JSON.parse(await readFile(tmp.file, 'utf8')) as { firmware: { updates: Update[]; campaigns: unknown[] } };
    assert.deepEqual(snapshot.firmware.updates, [update('2', 'observing', 0)]);
    assert.deepEqual(snapshot.firmware.campaigns, []);
  });

  it('refuses an entity without a decimal id before it touches memory or the journal', async () => {
    const s = (tmp.store = await openStore(tmp.file));
    await assert.rejects(s.putEntity('firmware', { id: 'x' }), RangeError);
    assert.deepEqual(s.allEntities('firmware'), []);
    assert.deepEqual(await records(tmp.file), []);
  });

  it('carries updates, campaigns and their next ids into the snapshot at compaction, and reopens to the same state', async () => {
    const s = (tmp.store = await openStore(tmp.file, { compaction: { compactBytes: 2048, snapshotRatio: 0 } }));
    for (let n = 0; n < 60; n++) {
      const id = n % 5 === 0 ? s.takeEntityId('firmware') : String(Math.floor(n / 5) + 1);
      await Promise.all([
        s.putEntity('firmware', update(id, `step-${n % 5}`, n)),
        s.putEntity('firmwareCampaign', campaign('1', n)),
        s.create(write('d', n)),
      ]);
    }
    await s.compacted();
    assert.ok(s.diskStats().compactions >= 2, `${s.diskStats().compactions} compactions`);
    const snapshot = JSON.parse(await readFile(tmp.file, 'utf8')) as { seq: number; firmware: { updates: Update[]; campaigns: unknown[] } };
    assert.ok(snapshot.seq > 0 && snapshot.firmware.updates.length >= 10, 'the snapshot holds the updates');
    const folded = (await records(tmp.file)).filter((r) => r.seq <= snapshot.seq);
    assert.deepEqual(folded, [], 'the journal records in the snapshot are removed');
    const updates = s.allEntities('firmware');
    const campaigns = s.allEntities('firmwareCampaign');
    await s.close();
    assert.deepEqual(await listSegments(tmp.file), [], 'a clean stop folds everything');
    const closed = JSON.parse(await readFile(tmp.file, 'utf8')) as { firmware: unknown };
    assert.deepEqual(closed.firmware, { nextId: 13, nextCampaignId: 2, updates, campaigns });
    tmp.store = await openStore(tmp.file);
    assert.deepEqual(tmp.store.allEntities('firmware'), updates);
    assert.deepEqual(tmp.store.allEntities('firmwareCampaign'), campaigns);
    assert.equal(tmp.store.takeEntityId('firmware'), '13');
    assert.equal(tmp.store.size, 60);
  });

  it('reads a snapshot written before firmware records as having none', async () => {
    await writeFile(tmp.file, '{"version":1,"nextId":3,"seq":0,"operations":[\n\n]}\n');
    tmp.store = await openStore(tmp.file);
    assert.deepEqual(tmp.store.allEntities('firmware'), []);
    assert.equal(tmp.store.takeEntityId('firmware'), '1');
    assert.equal((await tmp.store.create(write('d', 1))).operation.id, '3');
  });

  it('cuts a torn last record holding a firmware step, keeping the step before it', async () => {
    await crashedWith(tmp.file);
    const [segment] = await listSegments(tmp.file);
    const whole = await readFile(segment!.file);
    const next = JSON.stringify({ seq: 99, type: 'firmware', put: update('1', 'updating', 3) });
    await writeFile(segment!.file, Buffer.concat([whole, encodeFrames([next]).subarray(0, 40)]));
    const log = captureLog();
    tmp.store = await openStore(tmp.file, { log });
    assert.equal(tmp.store.getEntity<Update>('firmware', '1')?.step, 'downloading');
    assert.equal((await stat(segment!.file)).size, whole.length, 'the torn tail is cut off the file');
    assert.ok(log.lines.some((l) => l.level === 'warn' && (l.obj as { cut?: number }).cut === 40));
  });

  it('refuses a firmware record damaged before valid ones, or one without an id; --salvage-store keeps the records before it', async () => {
    await crashedWith(tmp.file);
    const [segment] = await listSegments(tmp.file);
    const bytes = await readFile(segment!.file);
    const frames = decodeFrames(bytes).frames;
    const firstFirmware = frames.find((f) => f.text.includes('"type":"firmware"'))!;
    const damaged = Buffer.from(bytes);
    damaged[firstFirmware.at + 60]! ^= 0x20;
    await writeFile(segment!.file, damaged);
    await assert.rejects(openStore(tmp.file), (e: unknown) => e instanceof StoreCorruptError && /valid records after it/.test(e.message));

    const noId = JSON.stringify({ seq: 99, type: 'firmware', put: { step: 'updating' } });
    await writeFile(segment!.file, Buffer.concat([bytes, encodeFrames([noId])]));
    await assert.rejects(openStore(tmp.file), (e: unknown) => e instanceof StoreCorruptError && /seq 99: firmware bad id/.test(e.message));

    await writeFile(segment!.file, damaged);
    tmp.store = await openStore(tmp.file, { salvage: true });
    assert.deepEqual(tmp.store.allEntities('firmware'), [], 'only the operation came before the damage');
    assert.equal(tmp.store.size, 1);
    assert.equal(tmp.store.takeEntityId('firmware'), '3', 'update ids seen in the damaged segment are not reused');
    assert.ok(
      (await readdir(tmp.dir)).some((n) => n.includes('.corrupt-')),
      'the damaged segment was copied aside',
    );
  });

  it('salvages the firmware entries of a damaged snapshot with --salvage-store', async () => {
    const s = await crashedWith(tmp.file);
    await s.close();
    const text = await readFile(tmp.file, 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('],"campaigns"'));
    await writeFile(tmp.file, lines.slice(0, at + 1).join('\n') + '\n{"id":"1","endpoi'); // cut in the campaign
    await assert.rejects(openStore(tmp.file), StoreCorruptError);
    tmp.store = await openStore(tmp.file, { salvage: true });
    assert.deepEqual(
      tmp.store.allEntities<Update>('firmware').map((u) => [u.id, u.step]),
      [
        ['1', 'downloading'],
        ['2', 'observing'],
      ],
    );
    assert.deepEqual(tmp.store.allEntities('firmwareCampaign'), [], 'the torn campaign line is lost');
    assert.equal(tmp.store.size, 1);
  });
});

describe('OperationStore firmware records on a full disk (a real tmpfs)', () => {
  it('undoes a put the disk did not take, rejects it with StoreUnavailableError, and takes puts again once it does', async () => {
    const disk = await mountSmallDisk(512);
    const s = await openStore(path.join(disk.dir, 'operations.json'), { retryWriteMs: 30 });
    try {
      await s.putEntity('firmware', update('1', 'observing', 0));
      await disk.fill();
      let refused: unknown;
      let seq = 1;
      for (; seq < 200 && refused === undefined; seq++) {
        await s.putEntity('firmware', update('1', 'writing_uri', seq)).catch((e: unknown) => (refused = e));
      }
      assert.ok(refused instanceof StoreUnavailableError && /ENOSPC/.test(refused.message), String(refused));
      assert.equal(s.getEntity<Update>('firmware', '1')?.progress.seq, seq - 2, 'memory is the last step the disk took');
      await assert.rejects(s.putEntity('firmware', update('2', 'observing', 0)), StoreUnavailableError, 'refused while the disk is full');
      assert.equal(s.getEntity('firmware', '2'), undefined);
      await disk.free();
      await s.whenWritable();
      await s.putEntity('firmware', update('1', 'downloading', 500));
      assert.equal(s.getEntity<Update>('firmware', '1')?.progress.seq, 500);
    } finally {
      await s.close();
      await disk.unmount();
    }
  });
});

/**
 * The operation store and the data directory as a hostile or broken world leaves them: a full disk, a
 * corrupt or truncated store file, a second daemon on the same data directory. Against the real daemon
 * process; after each, no acknowledged operation is lost or duplicated and the process still serves.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import { mountSmallDisk, type SmallDisk } from '../support/smallDisk.js';
import { apiCall } from '../support/api.js';

const OFFLINE = { leshan: { url: 'http://127.0.0.1:9' }, influx: { url: 'http://127.0.0.1:9' } };

const call = (d: DaemonProcess, method: string, route: string, body?: unknown) => apiCall(d.url, method, route, body);

const queue = (d: DaemonProcess, n: number) =>
  call(d, 'POST', '/api/endpoints/dev/operations', { kind: 'write', path: '/5/0/1', value: `https://x/fw-${n}.bin` });
const allOperations = async (d: DaemonProcess): Promise<{ id: string; value: string }[]> =>
  (await call(d, 'GET', '/api/operations?limit=1000')).body.items;

describe('hostile world: the store and the data directory', () => {
  const daemons: DaemonProcess[] = [];
  const dirs: string[] = [];
  const start = async (...args: Parameters<typeof startDaemon>) => {
    const d = await startDaemon(...args);
    daemons.push(d);
    return d;
  };
  const dataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-hostile-'));
    dirs.push(dir);
    return path.join(dir, 'data');
  };
  after(async () => {
    for (const d of daemons) await d.cleanup();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  describe('a full disk', () => {
    let disk: SmallDisk;
    before(async () => {
      disk = await mountSmallDisk(1024);
    });
    after(async () => {
      await disk.unmount();
    });

    it('refuses creates with 503 and a reason while the disk is full, loses and duplicates nothing, and takes them again after', async () => {
      const d = await start({ config: OFFLINE, dataDir: path.join(disk.dir, 'data') });
      const acknowledged: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await queue(d, i);
        assert.equal(r.status, 201);
        acknowledged.push(r.body.id);
      }
      await disk.fill();
      // a create whose journal record fits in the last page the journal already has still succeeds
      let first = await queue(d, 100);
      for (let i = 101; i < 200 && first.status === 201; i++) {
        acknowledged.push(first.body.id);
        first = await queue(d, i);
      }
      assert.equal(first.status, 503, JSON.stringify(first.body));
      for (let i = 6; i < 10; i++) {
        const r = await queue(d, i);
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body.error.code, 'store_unavailable');
        assert.match(r.body.error.message, /ENOSPC/);
        assert.equal(r.headers.get('retry-after'), '5');
      }
      const cancel = await call(d, 'DELETE', `/api/operations/${acknowledged[0]}`);
      assert.equal(cancel.status, 503, 'a cancel the disk cannot take is refused too');
      const health = await call(d, 'GET', '/health');
      assert.equal(health.body.checks.store.status, 'fail');
      assert.match(health.body.checks.store.error, /ENOSPC/);
      assert.deepEqual(
        (await allOperations(d)).map((o) => o.id),
        acknowledged,
        'nothing refused is in memory',
      );

      await disk.free();
      let created: { status: number; body: any } | undefined;
      for (let i = 0; i < 100 && created?.status !== 201; i++) {
        await new Promise((r) => setTimeout(r, 100));
        created = await queue(d, 10);
      }
      assert.equal(created?.status, 201, 'the store takes writes again once the disk has room');
      acknowledged.push(created!.body.id);
      assert.equal((await call(d, 'GET', '/health')).body.checks.store.status, 'ok');

      assert.equal((await d.signal('SIGTERM')).code, 0);
      const again = await start({ config: OFFLINE, dataDir: d.dataDir });
      const ops = await allOperations(again);
      assert.deepEqual(
        ops.map((o) => o.id),
        acknowledged,
        'every acknowledged operation, once, after a restart',
      );
      assert.equal(new Set(ops.map((o) => o.value)).size, ops.length);
      await again.signal('SIGTERM');
    });
  });

  describe('a corrupt store file', () => {
    it('refuses to start with exit 78 and a line saying how to recover; --salvage-store keeps every complete operation', async () => {
      const dir = await dataDir();
      const d = await start({ config: OFFLINE, dataDir: dir });
      for (let i = 0; i < 4; i++) assert.equal((await queue(d, i)).status, 201);
      assert.equal((await d.signal('SIGTERM')).code, 0);
      const file = path.join(dir, 'operations.json');
      const whole = await readFile(file, 'utf8');
      const torn = whole.slice(0, whole.indexOf('fw-3.bin')); // the last operation cut in half, as a broken disk might

      for (const content of [torn, '', '\u0000\u0001garbage']) {
        await writeFile(file, content);
        const refused = await start({ config: OFFLINE, dataDir: dir, waitReady: false });
        const exit = await refused.exited;
        assert.equal(exit.code, 78, `exit code for ${JSON.stringify(content.slice(0, 20))}`);
        assert.match(refused.stderr(), /operation store .* is corrupt .*--salvage-store/);
        assert.equal(refused.stderr().trim().split('\n').length, 1, 'one line, no stack');
        assert.equal(await readFile(file, 'utf8'), content, 'the file is left as it was');
      }

      await writeFile(file, torn);
      const salvaged = await start({ config: OFFLINE, dataDir: dir, args: ['--salvage-store'] });
      const ops = await allOperations(salvaged);
      assert.deepEqual(
        ops.map((o) => o.value),
        ['https://x/fw-0.bin', 'https://x/fw-1.bin', 'https://x/fw-2.bin'],
      );
      assert.ok(
        (await readdir(dir)).some((n) => n.startsWith('operations.json.corrupt-')),
        'the damaged file is kept aside',
      );
      const next = await queue(salvaged, 9);
      assert.equal(next.body.id, '5', 'the id of the damaged operation is not reused');
      await salvaged.signal('SIGTERM');
    });
  });

  describe('two daemons on one data directory', () => {
    it("the second refuses to start (exit 78, naming the first one's pid); the first keeps serving; a kill -9 leaves no stale lock", async () => {
      const dir = await dataDir();
      const first = await start({ config: OFFLINE, dataDir: dir });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await queue(first, i)).body.id);

      const second = await start({ config: OFFLINE, dataDir: dir, waitReady: false });
      assert.equal((await second.exited).code, 78);
      assert.match(second.stderr(), new RegExp(`in use by another lwm2m-backend \\(pid ${first.proc.pid}\\)`));
      ids.push((await queue(first, 3)).body.id);
      assert.deepEqual(
        (await allOperations(first)).map((o) => o.id),
        ids,
      );
      assert.equal(new Set(ids).size, 4, 'no id handed out twice');

      first.proc.kill('SIGKILL');
      await first.exited;
      const third = await start({ config: OFFLINE, dataDir: dir });
      assert.deepEqual(
        (await allOperations(third)).map((o) => o.id),
        ids,
        'started at once after kill -9, with every operation',
      );
      await third.signal('SIGTERM');
    });
  });
});

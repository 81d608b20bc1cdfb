/**
 * The daemon SIGKILLed during a send, against the real Leshan (docs/leshan-demo.md): the daemon (a child process,
 * `leshan.ingress: "events"`) sends a write through Leshan's demo server 2.0.0-M4 to a real LwM2M client (Leshan's
 * client library 2.0.0-M18) that holds its answer back on purpose (`delay PATH MS` on its stdin). While the write is
 * SENDING and the request is at the device, the daemon is killed with SIGKILL and started again on the same data
 * directory. The crash rule of the operation store (src/operations/store/load.ts, README "Statuses"): an operation
 * left SENDING goes back to QUEUED with the interrupted attempt counted, and is delivered again while the device is
 * awake. Nothing is lost: the write is CONFIRMED on its second attempt (the device took the same value twice), the
 * read queued behind it is CONFIRMED and its value is in InfluxDB. An execute left SENDING is FAILED instead (it may
 * have run on the device: never repeated), and the device has run it once.
 *
 * Every wait is for an event (a client's line, a log line) or a polled condition, never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import type { Operation } from '../../src/operations/operation.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import type { Influxd } from '../../tools/influxd.js';
import { startRealLeshanClient, type RealLeshanClient, type RealLeshanServer } from '../../tools/realLeshan.js';
import { apiCall } from '../support/api.js';
import { until } from '../support/controllerHarness.js';
import { cleanupsAfterAll, startInfluxAndLeshan } from '../support/e2e.js';

const DB = 'crash';
const cleanup = cleanupsAfterAll();

let influx: Influxd;
let leshan: RealLeshanServer;

before(
  async () => {
    ({ influx, leshan } = await startInfluxAndLeshan(cleanup));
  },
  { timeout: 120_000 },
);

/** The daemon on `dataDir`, once it has reconciled with Leshan's registrations. */
async function daemonOn(dataDir: string): Promise<DaemonProcess> {
  const daemon = await startDaemon({
    dataDir,
    config: {
      // Leshan waits up to 10 s for the device: longer than the 5 s the client holds its answer
      leshan: { url: leshan.url, ingress: 'events', requestTimeoutS: 10 },
      influx: { url: influx.url, database: DB, connectIntervalMs: 200, flushIntervalMs: 100 },
    },
  });
  cleanup(() => daemon.cleanup());
  await daemon.waitForLine((l) => l.message === "reconciled with Leshan's registrations", 20_000);
  return daemon;
}

const get = async (daemon: DaemonProcess, id: string): Promise<Operation> =>
  (await apiCall(daemon.url, 'GET', `/api/operations/${id}`)).body as Operation;

/**
 * A daemon on a fresh data directory, a real queue-mode client `ep` it sees online, and that client told to hold
 * back its answer to the next request on `slowPath` for 5 s. `from`: the client's first line after the setup.
 */
async function slowDevice(
  ep: string,
  slowPath: string,
): Promise<{ dataDir: string; first: DaemonProcess; dev: RealLeshanClient; from: number }> {
  const work = await mkdtemp(path.join(tmpdir(), 'lwm2m-crash-'));
  cleanup(() => rm(work, { recursive: true, force: true }));
  const dataDir = path.join(work, 'data');
  const first = await daemonOn(dataDir);
  const dev = await startRealLeshanClient(leshan, { endpoint: ep, queueMode: true, lifetime: 300 });
  cleanup(() => dev.kill());
  await until(async () => (await apiCall(first.url, 'GET', `/api/endpoints/${ep}`)).body?.state === 'online', 10_000, `${ep} online`);
  const from = dev.events.length;
  dev.command(`delay ${slowPath} 5000`);
  await dev.waitFor('delaySet', { from });
  return { dataDir, first, dev, from };
}

describe('the daemon SIGKILLed while an operation is SENDING to a real client', () => {
  it(
    'restarted on the same data directory: the write is requeued and CONFIRMED, the read behind it too, no value lost',
    { timeout: 90_000 },
    async () => {
      const ep = 'crash-1';
      // the device holds back its answer to the next request on /3/0/15 for 5 s
      const { dataDir, first, dev, from } = await slowDevice(ep, '/3/0/15');
      const queue = async (body: unknown): Promise<Operation> => {
        const r = await apiCall(first.url, 'POST', `/api/endpoints/${ep}/operations`, body);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        return r.body as Operation;
      };
      const write = await queue({ kind: 'write', path: '/3/0/15', value: 'Asia/Tokyo' });
      const read = await queue({ kind: 'read', path: '/3303/0/5700' });
      const delaying = await dev.waitFor('delaying', { from });
      assert.deepEqual([delaying.kind, delaying.path], ['write', '/3/0/15'], 'the write reached the device');
      // SENDING is on disk before the request goes out; the read waits behind it (one at a time per endpoint)
      const sending = await get(first, write.id);
      assert.deepEqual([sending.status, sending.attempts], ['SENDING', 1], JSON.stringify(sending));
      assert.equal((await get(first, read.id)).status, 'QUEUED');

      const killed = await first.signal('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      // the device answers after all: Leshan has the 2.04, nobody is waiting for it
      const written = await dev.waitFor('written', { from });
      assert.equal(written.value, 'Asia/Tokyo');

      const second = await daemonOn(dataDir);
      const recovered = await second.waitForLine((l) => l.message === 'operation store: operations interrupted while sending recovered');
      assert.deepEqual([recovered.requeued, recovered.failed], [1, 0], JSON.stringify(recovered));

      // Leshan lists the device awake: the daemon sends again at once, the write first
      const settled = async (id: string): Promise<Operation> => {
        let op: Operation | undefined;
        await until(
          async () => ['CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED'].includes((op = await get(second, id)).status),
          20_000,
          `operation ${id} settled (last seen: ${JSON.stringify(op)})`,
        );
        return op!;
      };
      const w = await settled(write.id);
      assert.equal(w.status, 'CONFIRMED', JSON.stringify(w));
      assert.equal(w.attempts, 2, 'the interrupted attempt stays counted');
      assert.equal(w.result?.code, 204);
      const r = await settled(read.id);
      assert.equal(r.status, 'CONFIRMED', JSON.stringify(r));
      assert.equal(r.attempts, 1);
      const value = (r.result?.content as { value?: unknown }).value;
      assert.equal(typeof value, 'number');

      // the device got the same value twice (a write is idempotent); it holds it
      const writes = dev.events.slice(from).filter((e) => e.event === 'written');
      assert.deepEqual(
        writes.map((e) => e.value),
        ['Asia/Tokyo', 'Asia/Tokyo'],
      );
      const direct = await fetch(`${leshan.url}/api/clients/${ep}/3/0/15?timeout=5`);
      assert.equal(((await direct.json()) as { content: { value: unknown } }).content.value, 'Asia/Tokyo');
      // the read's value is in InfluxDB
      await until(
        async () =>
          (await influx.queryCsv(`SELECT "float" FROM "lwm2m" WHERE "ep" = '${ep}' AND "res" = '5700'`, DB).catch(() => [])).some(
            (row) => Number(row.float) === value,
          ),
        10_000,
        `the read value ${String(value)} in InfluxDB`,
      );
    },
  );
  // The delivery rule: an execute that may have reached the device is never repeated. The crash rule agrees (an
  // execute left SENDING is FAILED at the next start); it used to requeue it, and the real client ran it twice.
  it('an execute left SENDING by the crash is not run a second time on the device', { timeout: 90_000 }, async () => {
    const ep = 'crash-exec';
    const { dataDir, first, dev, from } = await slowDevice(ep, '/5/0/2');
    const queued = await apiCall(first.url, 'POST', `/api/endpoints/${ep}/operations`, { kind: 'execute', path: '/5/0/2' });
    assert.equal(queued.status, 201, JSON.stringify(queued.body));
    const exec = queued.body as Operation;
    await dev.waitFor('delaying', { from });
    assert.equal((await get(first, exec.id)).status, 'SENDING');
    await first.signal('SIGKILL');
    await dev.waitFor('executed', { from }); // it ran once, after the daemon was gone

    const second = await daemonOn(dataDir);
    let op: Operation | undefined;
    await until(
      async () => ['CONFIRMED', 'FAILED'].includes((op = await get(second, exec.id)).status),
      20_000,
      `the execute settled (last seen: ${JSON.stringify(op)})`,
    );
    // settled: whatever the daemon did, the device has had every request it will get
    await until(async () => (await get(second, exec.id)).status !== 'SENDING', 5000, 'not SENDING');
    const runs = dev.events.slice(from).filter((e) => e.event === 'executed').length;
    assert.equal(runs, 1, `the device ran the execute ${runs} times; the operation: ${JSON.stringify(op)}`);
    assert.equal(op!.status, 'FAILED', JSON.stringify(op));
    assert.deepEqual([op!.attempts, op!.error], [1, 'interrupted while sending: the device may have run it']);
  });
});

/**
 * End to end with this project's own Leshan server (leshan-server/, docs/leshan-server.md): the daemon (a child
 * process, `leshan.ingress: "posts"`) takes everything from that server's posts (registrations as object 10240,
 * awake and sleeping, notifications, Sends with the devices' timestamps) and delivers operations through its REST
 * API (the stock demo's) to real LwM2M clients in queue mode (Leshan's client library, CoAP over UDP on loopback);
 * values land in a real influxd. The server's awake time is short (3 s), so the clients fall asleep between steps.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Operation } from '../../src/operations/operation.js';
import { until } from '../support/controllerHarness.js';
import { apiCall } from '../support/api.js';
import { cleanupsAfterAll, queueOperation, registrationQuery, rowsUntil as rowsUntilIn, settledOperation } from '../support/e2e.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { freePort } from '../../tools/ports.js';
import { ensureOwnLeshan, startOwnLeshanServer, type OwnLeshanServer } from '../../tools/ownLeshan.js';
import { ensureLeshan, startRealLeshanClient, type RealLeshanClient } from '../../tools/realLeshan.js';

const DB = 'lwm2m';
const AWAKE_TIME_S = 3;

const cleanup = cleanupsAfterAll();

let influx: Influxd;
let leshan: OwnLeshanServer;
let daemon: DaemonProcess;

before(
  async () => {
    ensureLeshan(); // the client launcher (scripts/test.sh has already run it)
    ensureOwnLeshan(); // the server's jar (scripts/test.sh has already built it)
    influx = await startInfluxd();
    cleanup(() => influx.destroy());
    // the daemon is told where Leshan's REST API will be; Leshan is then told where the daemon is
    const webPort = await freePort();
    daemon = await startDaemon({
      config: {
        leshan: { url: `http://127.0.0.1:${webPort}`, ingress: 'posts', requestTimeoutS: 5 },
        influx: { url: influx.url, database: DB, connectIntervalMs: 200, flushIntervalMs: 100 },
      },
    });
    cleanup(() => daemon.cleanup());
    leshan = await startOwnLeshanServer({ daemonUrl: daemon.url, awakeTimeSeconds: AWAKE_TIME_S, webPort });
    cleanup(() => leshan.stop());
  },
  { timeout: 120_000 },
);

async function client(endpoint: string): Promise<RealLeshanClient> {
  // lifetime 300 s: the client then updates only every few minutes, so it wakes when the test says so
  const c = await startRealLeshanClient(leshan, { endpoint, queueMode: true, lifetime: 300 });
  cleanup(() => c.kill());
  return c;
}

const api = (method: string, path: string, body?: unknown) => apiCall(daemon.url, method, path, body);

const queue = (ep: string, body: unknown): Promise<Operation> => queueOperation(daemon.url, ep, body);
const operation = async (id: string): Promise<Operation> => (await api('GET', `/api/operations/${id}`)).body as Operation;
const settled = (id: string, timeoutMs?: number): Promise<Operation> => settledOperation(daemon.url, id, timeoutMs);
const rowsUntil = (q: string, atLeast?: number, timeoutMs?: number) => rowsUntilIn(influx, DB, q, atLeast, timeoutMs);

describe("the daemon with this project's Leshan server (posts ingress)", () => {
  it('registration, awake and sleeping are posted and recorded; Leshan lists the client in queue mode', { timeout: 60_000 }, async () => {
    const ep = 'own-reg';
    await client(ep);
    const listed = await leshan.waitForClient(ep);
    assert.equal(listed.queuemode, true);
    const [registered] = await rowsUntil(registrationQuery(ep, 'registered'));
    assert.equal(Number(registered!.registration_time), listed.registrationDate, "Leshan's registration date, ms");
    await rowsUntil(registrationQuery(ep, 'awake'));
    const view = (await api('GET', `/api/endpoints/${ep}`)).body;
    assert.equal(view.registered, true);
    assert.equal(view.queueMode, true, 'queue mode from 10240/0/5');
    // the awake time runs out: Leshan posts sleeping, the daemon takes the endpoint offline
    await rowsUntil(registrationQuery(ep, 'sleeping'), 1, 20_000);
    await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body.state === 'offline', 10_000, `${ep} offline`);
  });

  it('an observation: its notifications land in InfluxDB as FLOAT', { timeout: 60_000 }, async () => {
    const ep = 'own-observe';
    await client(ep);
    const observe = await settled((await queue(ep, { kind: 'observe', path: '/3303/0/5700' })).id);
    assert.equal(observe.status, 'CONFIRMED', JSON.stringify(observe));
    // the client's sensor changes every 2 s and notifies (notifications reach Leshan asleep or awake)
    const found = await rowsUntil(
      `SELECT "float", "type" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3303' AND "inst" = '0' AND "res" = '5700'`,
      3,
      30_000,
    );
    assert.ok(
      found.every((r) => r.type === 'FLOAT' && Number.isFinite(Number(r.float))),
      JSON.stringify(found),
    );
  });

  it('a Send of collected values: every value lands at the time it was measured, not when it was sent', { timeout: 60_000 }, async () => {
    const ep = 'own-send';
    const dev = await client(ep);
    const windows: [number, number][] = [];
    for (let i = 0; i < 2; i++) {
      const from = dev.events.length;
      const lo = Date.now();
      dev.command('collect /3303/0/5700');
      await dev.waitFor('collected', { from });
      windows.push([lo, Date.now()]);
      // the sensor changes every 2 s: the two readings are taken apart, and sent well after both
      await new Promise((r) => setTimeout(r, 2100));
    }
    const sentAt = Date.now();
    const from = dev.events.length;
    dev.command('send collected-value');
    const outcome = await dev.waitFor(['sendOk', 'sendFailed', 'error'], { from });
    assert.equal(outcome.event, 'sendOk', JSON.stringify(outcome));
    const found = await rowsUntil(
      `SELECT "float" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3303' AND "inst" = '0' AND "res" = '5700'`,
      2,
    );
    assert.equal(found.length, 2, `both collected values, none other: ${JSON.stringify(found)}`);
    const times = found.map((r) => Number(BigInt(r.time!) / 1_000_000n)).sort((a, b) => a - b);
    for (const [i, [lo, hi]] of windows.entries()) {
      // the client stamps a reading when it collects it (ms, with a little slack for the JVM's clock reading)
      assert.ok(times[i]! >= lo - 50 && times[i]! <= hi + 50, `reading ${i} at ${times[i]}, collected within [${lo}, ${hi}]`);
      assert.ok(times[i]! < sentAt, 'written at its measured time, before the Send');
    }
  });

  it('an operation queued while the client sleeps is delivered at its next wake and CONFIRMED', { timeout: 60_000 }, async () => {
    const ep = 'own-wake';
    const dev = await client(ep);
    await rowsUntil(registrationQuery(ep, 'sleeping'), 1, 20_000);
    await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body.state === 'offline', 10_000, `${ep} offline`);
    const write = await queue(ep, { kind: 'write', path: '/3/0/14', value: '+05:00' });
    assert.equal((await operation(write.id)).status, 'QUEUED', 'asleep: nothing goes out');
    await dev.update(); // the client wakes: Leshan posts awake and the update, the daemon sends the write
    const done = await settled(write.id);
    assert.equal(done.status, 'CONFIRMED', JSON.stringify(done));
    assert.equal(done.result?.code, 204);
    assert.equal(done.attempts, 1, 'sent once, when the client was awake (no attempt while it slept)');
    const readBack = await settled((await queue(ep, { kind: 'read', path: '/3/0/14' })).id);
    assert.equal((readBack.result?.content as { value?: unknown }).value, '+05:00');
  });

  it('deregistration is posted and recorded', { timeout: 60_000 }, async () => {
    const ep = 'own-dereg';
    const dev = await client(ep);
    await rowsUntil(registrationQuery(ep, 'registered'));
    await dev.stop();
    await rowsUntil(registrationQuery(ep, 'deregistered'));
    await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body.registered === false, 10_000, `${ep} deregistered`);
  });
});

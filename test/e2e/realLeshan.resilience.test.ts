/**
 * Resilience end to end against the real Leshan (docs/leshan-demo.md): the daemon (a child process) beside
 * Leshan's own demo server 2.0.0-M4, real LwM2M clients (Leshan's client library 2.0.0-M18) and a real influxd.
 *
 * 1. Leshan killed (SIGKILL by pid) and started again on the same ports while the daemon runs
 *    (`leshan.ingress: "events"`): the event stream is reopened, the registration list reconciled, and a read
 *    queued while Leshan was down is delivered and CONFIRMED once the client has registered again.
 * 2. `leshan.ingress: "both"` with the stock demo server (no posts): the event stream alone records the
 *    registration and every notification of an observed resource exactly once in InfluxDB.
 *
 * Every wait is for an event (a client's line, a log line) or a polled condition, never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Operation } from '../../src/operations/operation.js';
import { until } from '../support/controllerHarness.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { ensureLeshan, startRealLeshanClient, startRealLeshanServer, type RealLeshanServer } from '../../tools/realLeshan.js';
import { apiCall } from '../support/api.js';
import { cleanupsAfterAll } from '../support/e2e.js';

const cleanup = cleanupsAfterAll();

let influx: Influxd;
/** One Leshan per case: the first is killed and restarted, the second is followed twice (daemon and test). */
let leshanRestart: RealLeshanServer;
let leshanBoth: RealLeshanServer;

before(
  async () => {
    ensureLeshan();
    const started = await Promise.allSettled([startInfluxd(), startRealLeshanServer(), startRealLeshanServer()]);
    for (const s of started) {
      if (s.status !== 'fulfilled') continue;
      const v = s.value;
      cleanup(() => ('destroy' in v ? v.destroy() : v.stop()));
    }
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    influx = (started[0] as PromiseFulfilledResult<Influxd>).value;
    leshanRestart = (started[1] as PromiseFulfilledResult<RealLeshanServer>).value;
    leshanBoth = (started[2] as PromiseFulfilledResult<RealLeshanServer>).value;
  },
  { timeout: 120_000 },
);

async function daemonFor(leshan: RealLeshanServer, ingress: 'events' | 'both', database: string): Promise<DaemonProcess> {
  const daemon = await startDaemon({
    config: {
      leshan: { url: leshan.url, ingress, requestTimeoutS: 5 },
      influx: { url: influx.url, database, connectIntervalMs: 200, flushIntervalMs: 100 },
      endpoints: { retryMs: 500 },
    },
  });
  cleanup(() => daemon.cleanup());
  await daemon.waitForLine((l) => l.message === "reconciled with Leshan's registrations", 20_000);
  return daemon;
}

const api = (daemon: DaemonProcess, method: string, path: string, body?: unknown) => apiCall(daemon.url, method, path, body);

async function metric(daemon: DaemonProcess, name: string): Promise<number> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

async function leshanEvents(daemon: DaemonProcess): Promise<{ ok: boolean; connected: boolean; reconnects: number }> {
  const res = await fetch(`${daemon.url}/health`);
  return ((await res.json()) as { checks: { leshanEvents: { ok: boolean; connected: boolean; reconnects: number } } }).checks.leshanEvents;
}

async function rows(q: string, db: string): Promise<Record<string, string>[]> {
  return influx.queryCsv(q, db).catch(() => []); // the database exists only after the daemon's first write
}

/** Follows Leshan's event stream from the test: the NOTIFICATION events it publishes for `ep`, in order. */
function followNotifications(leshan: RealLeshanServer, ep: string): { values: number[]; close(): void } {
  const values: number[] = [];
  const ac = new AbortController();
  void (async () => {
    const res = await fetch(`${leshan.url}/api/event`, { headers: { accept: 'text/event-stream' }, signal: ac.signal });
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const name = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (name !== 'NOTIFICATION' || data === undefined) continue;
        const n = JSON.parse(data) as { ep: string; res: string; val: { value?: unknown } };
        if (n.ep === ep && n.res === '/3303/0/5700' && typeof n.val.value === 'number') values.push(n.val.value);
      }
    }
  })().catch(() => undefined);
  return { values, close: () => ac.abort() };
}

describe('the daemon against the real Leshan demo server: restarts and both ingress paths', () => {
  it(
    'Leshan killed and started again on the same ports: stream reopened, registrations reconciled, a read queued meanwhile CONFIRMED',
    { timeout: 60_000 },
    async () => {
      const db = 'resilience_restart';
      const ep = 'res-restart';
      const daemon = await daemonFor(leshanRestart, 'events', db);
      const dev = await startRealLeshanClient(leshanRestart, { endpoint: ep, queueMode: true, lifetime: 300 });
      cleanup(() => dev.kill());
      await until(async () => (await api(daemon, 'GET', `/api/endpoints/${ep}`)).body?.registered === true, 10_000, `${ep} registered`);
      assert.equal((await leshanEvents(daemon)).ok, true);
      assert.equal(await metric(daemon, 'lwm2m_backend_leshan_stream_reconnects_total'), 0);

      // SIGKILL by pid: no goodbye on the stream, the in-memory registration store is gone with it
      const old = leshanRestart;
      const exited = new Promise<void>((resolve) => old.proc.once('exit', () => resolve()));
      process.kill(old.pid!, 'SIGKILL');
      await exited;
      await old.stop(); // its working directory
      await until(async () => !(await leshanEvents(daemon)).connected, 10_000, 'the daemon noticed the stream is gone');
      assert.equal((await fetch(`${daemon.url}/health`)).status, 503);

      // queued while Leshan is down: tried (the endpoint is in its awake window), unreachable, stays QUEUED uncounted
      const queued = await api(daemon, 'POST', `/api/endpoints/${ep}/operations`, { kind: 'read', path: '/3/0/9' });
      assert.equal(queued.status, 201, JSON.stringify(queued.body));
      const op = queued.body as Operation;
      let seen: Operation | undefined;
      await until(
        async () => {
          seen = (await api(daemon, 'GET', `/api/operations/${op.id}`)).body as Operation;
          return seen.error !== undefined;
        },
        10_000,
        `an attempt while Leshan is down (last seen: ${JSON.stringify(seen)})`,
      );
      assert.equal(seen!.status, 'QUEUED', JSON.stringify(seen));
      assert.equal(seen!.attempts, 0, 'an unreachable Leshan is no attempt');

      const reconciledBefore = daemon.lines.filter((l) => l.message === "reconciled with Leshan's registrations").length;
      leshanRestart = await startRealLeshanServer({ ports: { webPort: old.webPort, coapPort: old.coapPort, coapsPort: old.coapsPort } });
      cleanup(() => leshanRestart.stop());
      assert.equal(leshanRestart.url, old.url);

      // the stream reopened (backoff with jitter: up to ~15 s after a few failed attempts) and reconciled
      await until(async () => (await leshanEvents(daemon)).ok, 30_000, 'leshanEvents ok again');
      assert.ok((await metric(daemon, 'lwm2m_backend_leshan_stream_reconnects_total')) >= 1, 'a reconnect counted');
      assert.equal((await fetch(`${daemon.url}/health`)).status, 200);
      const reconciled = await daemon.waitForLine(
        (l) =>
          l.message === "reconciled with Leshan's registrations" &&
          daemon.lines.filter((x) => x.message === l.message).indexOf(l) >= reconciledBefore,
        10_000,
      );
      // the new Leshan knows nobody: the daemon takes the client as deregistered meanwhile
      assert.deepEqual([reconciled.registered, reconciled.deregisteredMeanwhile], [0, 1], JSON.stringify(reconciled));
      assert.equal((await api(daemon, 'GET', `/api/endpoints/${ep}`)).body.registered, false);
      assert.equal((await api(daemon, 'GET', `/api/operations/${op.id}`)).body.status, 'QUEUED');

      // the client learns it at its next update (4.04) and registers again on its own
      const from = dev.events.length;
      dev.command('update');
      const outcome = await dev.waitFor(['updateFailed', 'registered'], { from });
      const registered = await dev.waitFor('registered', { from, timeoutMs: 20_000 });
      assert.ok(outcome.event === 'updateFailed' || outcome === registered, JSON.stringify(dev.events.slice(from)));
      await leshanRestart.waitForClient(ep);
      await until(
        async () => (await api(daemon, 'GET', `/api/endpoints/${ep}`)).body?.registered === true,
        10_000,
        `${ep} registered again`,
      );

      let done: Operation | undefined;
      await until(
        async () => {
          done = (await api(daemon, 'GET', `/api/operations/${op.id}`)).body as Operation;
          return done.status !== 'QUEUED' && done.status !== 'SENDING';
        },
        20_000,
        `the read settled (last seen: ${JSON.stringify(done)})`,
      );
      assert.equal(done!.status, 'CONFIRMED', JSON.stringify(done));
      assert.equal(done!.attempts, 1, 'one attempt reached the device');
      assert.equal(typeof (done!.result?.content as { value?: unknown }).value, 'number', 'battery level');
      // registered, then registered again: two registration events in InfluxDB
      await until(
        async () =>
          (await rows(`SELECT "registration_time" FROM "registration" WHERE "ep" = '${ep}' AND "event" = 'registered'`, db)).length === 2,
        10_000,
        'both registrations recorded',
      );
    },
  );

  it(
    'ingress "both" with the stock demo server: the registration and every notification written exactly once',
    { timeout: 60_000 },
    async () => {
      const db = 'resilience_both';
      const ep = 'res-both';
      const daemon = await daemonFor(leshanBoth, 'both', db);
      const followed = followNotifications(leshanBoth, ep);
      cleanup(async () => followed.close());
      const dev = await startRealLeshanClient(leshanBoth, { endpoint: ep, queueMode: true, lifetime: 300 });
      cleanup(() => dev.kill());
      await until(async () => (await api(daemon, 'GET', `/api/endpoints/${ep}`)).body?.registered === true, 10_000, `${ep} registered`);

      // observed through Leshan's REST API itself, so that the only values the daemon sees are the events'. (An
      // observe queued on the daemon would write its answer as if posted, and with "both" a notification of the
      // same value within 10 s is then dropped as that post's duplicate: a reading lost, not a double write.)
      const obs = await fetch(`${leshanBoth.url}/api/clients/${ep}/3303/0/5700/observe?timeout=5`, { method: 'POST' });
      const obsBody = (await obs.json()) as { success?: boolean };
      assert.equal(obsBody.success, true, JSON.stringify(obsBody));
      await until(() => followed.values.length >= 3, 20_000, 'three notifications on Leshan’s stream');
      dev.pause(); // SIGSTOP: no more notifications

      const valuesQuery = `SELECT "float" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3303' AND "inst" = '0' AND "res" = '5700'`;
      let stored: Record<string, string>[] = [];
      let expected: number[] = [];
      // a snapshot where the daemon has taken every notification seen so far and written them all
      await until(
        async () => {
          expected = [...followed.values];
          if ((await metric(daemon, 'lwm2m_backend_leshan_events_total{type="notification"}')) !== expected.length) return false;
          if ((await metric(daemon, 'lwm2m_backend_influx_buffered_points')) !== 0) return false;
          stored = await rows(valuesQuery, db);
          return stored.length >= expected.length && followed.values.length === expected.length;
        },
        15_000,
        `every notification taken and written (seen ${JSON.stringify(followed.values)})`,
      );
      assert.deepEqual(
        stored.map((r) => Number(r.float)),
        expected,
        'one point per notification, in order, none twice',
      );
      const registrations = await rows(`SELECT "registration_time" FROM "registration" WHERE "ep" = '${ep}'`, db);
      assert.equal(registrations.length, 1, JSON.stringify(registrations));
      dev.resume();
    },
  );
});

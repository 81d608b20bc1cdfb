/**
 * End to end against the real Leshan: the daemon (a child process, `leshan.ingress: "events"`) follows the event
 * stream of Leshan's own demo server and delivers operations through its REST API to real LwM2M clients (Leshan's
 * client library, CoAP over UDP on loopback); values land in a real influxd. What is run and how it differs from
 * the test double: docs/leshan-demo.md. Every wait is for an event (a client's line, a log line) or a polled
 * condition, never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Operation } from '../../src/operations/operation.js';
import { until } from '../support/controllerHarness.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import type { Influxd } from '../../tools/influxd.js';
import { startRealLeshanClient, type RealLeshanClient, type RealLeshanServer } from '../../tools/realLeshan.js';
import { apiCall } from '../support/api.js';
import {
  cleanupsAfterAll,
  startInfluxAndLeshan,
  queueOperation,
  registrationQuery as registrationPoints,
  rowsUntil as rowsUntilIn,
  settledOperation,
} from '../support/e2e.js';

const DB = 'lwm2m';

const cleanup = cleanupsAfterAll();

let influx: Influxd;
let leshan: RealLeshanServer;
let daemon: DaemonProcess;

before(
  async () => {
    ({ influx, leshan } = await startInfluxAndLeshan(cleanup));
    daemon = await startDaemon({
      config: {
        leshan: { url: leshan.url, ingress: 'events', requestTimeoutS: 5 },
        influx: { url: influx.url, database: DB, connectIntervalMs: 200, flushIntervalMs: 100 },
      },
    });
    cleanup(() => daemon.cleanup());
    await daemon.waitForLine((l) => l.message === "reconciled with Leshan's registrations", 20_000);
  },
  { timeout: 120_000 },
);

async function client(
  endpoint: string,
  extra: { lifetime?: number; communicationPeriod?: number; contentFormats?: string[] } = {},
): Promise<RealLeshanClient> {
  // lifetime 300 s: a shorter one makes the client update every few seconds (its update period is the lifetime
  // less CoAP's exchange lifetime, 247 s), which would keep every endpoint awake and blur the events under test
  const c = await startRealLeshanClient(leshan, { endpoint, queueMode: true, lifetime: 300, ...extra });
  cleanup(() => c.kill());
  return c;
}

const api = (method: string, path: string, body?: unknown) => apiCall(daemon.url, method, path, body);

const queue = (ep: string, body: unknown): Promise<Operation> => queueOperation(daemon.url, ep, body);
const settled = (id: string, timeoutMs?: number): Promise<Operation> => settledOperation(daemon.url, id, timeoutMs);
const rowsUntil = (q: string, atLeast?: number, timeoutMs?: number) => rowsUntilIn(influx, DB, q, atLeast, timeoutMs);
const registrationQuery = (ep: string, event: string): string => registrationPoints(ep, event, '"registration_time"');

describe('the daemon against the real Leshan demo server (events ingress)', () => {
  it(
    'REGISTRATION, UPDATED and DEREGISTRATION are recorded in InfluxDB and drive GET /api/endpoints/{ep}',
    { timeout: 60_000 },
    async () => {
      const ep = 'e2e-reg';
      const dev = await client(ep);
      const listed = await leshan.waitForClient(ep);
      assert.equal(listed.queuemode, true, 'Leshan lists it in queue mode');

      const [registered] = await rowsUntil(registrationQuery(ep, 'registered'));
      // Leshan's registrationDate, as this Leshan writes it (ISO-8601, whole seconds), in ms
      assert.equal(Number(registered!.registration_time), Date.parse(String(listed.registrationDate)));
      let view = (await api('GET', `/api/endpoints/${ep}`)).body;
      assert.equal(view.registered, true);
      assert.equal(view.queueMode, true);
      assert.equal(view.state, 'online');
      assert.equal(view.lastEvent.type, 'registered');

      await dev.update();
      await rowsUntil(registrationQuery(ep, 'updated'));
      await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body.lastEvent?.type === 'updated', 10_000, 'lastEvent updated');
      view = (await api('GET', `/api/endpoints/${ep}`)).body;
      assert.equal(view.registered, true);
      assert.equal(view.state, 'online');

      await dev.stop();
      assert.ok(
        dev.events.some((e) => e.event === 'deregistered'),
        `the client deregistered: ${JSON.stringify(dev.events)}`,
      );
      await rowsUntil(registrationQuery(ep, 'deregistered'));
      await until(
        async () => (await api('GET', `/api/endpoints/${ep}`)).body.lastEvent?.type === 'deregistered',
        10_000,
        'lastEvent deregistered',
      );
      view = (await api('GET', `/api/endpoints/${ep}`)).body;
      assert.equal(view.registered, false);
      assert.equal(view.state, 'offline');
      assert.equal(
        (await leshan.clients()).some((c) => c.endpoint === ep),
        false,
        'gone from Leshan too',
      );
    },
  );

  it(
    'operations queued while the client is registered: read and write CONFIRMED, a write the client refuses FAILED with its code',
    { timeout: 60_000 },
    async () => {
      const ep = 'e2e-ops';
      await client(ep);
      await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body?.state === 'online', 10_000, `${ep} online`);

      const read = await settled((await queue(ep, { kind: 'read', path: '/3/0/0' })).id);
      assert.equal(read.status, 'CONFIRMED', JSON.stringify(read));
      assert.equal(read.result?.code, 205);
      assert.equal((read.result?.content as { value?: unknown }).value, 'Leshan Demo Device');
      const [stored] = await rowsUntil(`SELECT "string" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3' AND "res" = '0'`);
      assert.equal(stored!.string, 'Leshan Demo Device');

      // the whole instance: this Leshan writes nodes without kind or type (TIME as an ISO-8601 string, a
      // multi-instance resource as "values"); the daemon types them from its object model
      const instance = await settled((await queue(ep, { kind: 'read', path: '/3/0' })).id);
      assert.equal(instance.status, 'CONFIRMED', JSON.stringify(instance));
      const before = Date.now();
      const [time] = await rowsUntil(`SELECT "int", "type" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3' AND "res" = '13'`);
      assert.equal(time!.type, 'TIME');
      assert.ok(Math.abs(Number(time!.int) - before) < 120_000, `Current Time as ms since the epoch: ${JSON.stringify(time)}`);
      const [errorCode] = await rowsUntil(
        `SELECT "int", "type" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3' AND "res" = '11' AND "ri" = '0'`,
      );
      assert.deepEqual([errorCode!.type, errorCode!.int], ['INTEGER', '0']);

      // 3/0/14 UTC Offset is writable on the client (like the demo client's device)
      const write = await settled((await queue(ep, { kind: 'write', path: '/3/0/14', value: '+02:00' })).id);
      assert.equal(write.status, 'CONFIRMED', JSON.stringify(write));
      assert.equal(write.result?.code, 204);
      const readBack = await settled((await queue(ep, { kind: 'read', path: '/3/0/14' })).id);
      assert.equal((readBack.result?.content as { value?: unknown }).value, '+02:00');

      // 3/0/13 Current Time is writable in the object model, but the client (like the demo client's device) refuses
      // it with 4.04 Not Found: FAILED at once with Leshan's code
      const refused = await settled((await queue(ep, { kind: 'write', path: '/3/0/13', value: 1_700_000_000_000 })).id);
      assert.equal(refused.status, 'FAILED', JSON.stringify(refused));
      assert.equal(refused.result?.code, 404);
      assert.equal(refused.result?.status, 'NOT_FOUND(404)');
      assert.equal(refused.attempts, 1, 'a device 4.xx is final at once');

      // 3/0/0 Manufacturer is read-only: the daemon refuses the write itself (its object model), so nothing reaches
      // Leshan; what the client would answer (4.05 Method Not Allowed) is checked on Leshan's REST API directly
      const notWritable = await api('POST', `/api/endpoints/${ep}/operations`, { kind: 'write', path: '/3/0/0', value: 'someone else' });
      assert.equal(notWritable.status, 400);
      assert.equal(notWritable.body.error.details.field, 'path');
      const direct = await fetch(`${leshan.url}/api/clients/${ep}/3/0/0?timeout=5`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 0, kind: 'singleResource', type: 'STRING', value: 'someone else' }),
      });
      assert.equal(direct.status, 200);
      assert.deepEqual(await direct.json(), { status: 'METHOD_NOT_ALLOWED(405)', valid: true, success: false, failure: true });
    },
  );

  it('observe of the temperature sensor (3303/0/5700): notifications land in InfluxDB as FLOAT', { timeout: 60_000 }, async () => {
    const ep = 'e2e-obs';
    await client(ep);
    await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body?.state === 'online', 10_000, `${ep} online`);

    const observe = await settled((await queue(ep, { kind: 'observe', path: '/3303/0/5700' })).id);
    assert.equal(observe.status, 'CONFIRMED', JSON.stringify(observe));
    assert.equal(observe.result?.code, 205);
    assert.equal(typeof (observe.result?.content as { value?: unknown }).value, 'number');

    // the client's sensor changes every 2 s and notifies; the observe answer itself is a value too
    const points = await rowsUntil(
      `SELECT "float", "type", "object", "resource" FROM "lwm2m" WHERE "ep" = '${ep}' AND "obj" = '3303' AND "inst" = '0' AND "res" = '5700'`,
      3,
      20_000,
    );
    for (const p of points) {
      assert.equal(p.type, 'FLOAT');
      assert.equal(p.object, 'Temperature');
      assert.equal(p.resource, 'Sensor Value');
      assert.ok(Number.isFinite(Number(p.float)), `a number: ${JSON.stringify(p)}`);
    }
  });

  it(
    'a queue-mode client that stops answering: 504, then SLEEPING; the read waits and goes out at its next update',
    { timeout: 60_000 },
    async () => {
      const ep = 'e2e-sleep';
      const dev = await client(ep);
      await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body?.state === 'online', 10_000, `${ep} online`);

      dev.pause(); // SIGSTOP: registered, but no longer answering
      const op = await queue(ep, { kind: 'read', path: '/3/0/9' });
      let seen: Operation | undefined;
      // Leshan waits requestTimeoutS (5 s) for the device, answers 504 and marks it sleeping (SLEEPING event)
      await until(
        async () => {
          seen = (await api('GET', `/api/operations/${op.id}`)).body as Operation;
          return seen.status === 'QUEUED' && seen.attempts === 1;
        },
        20_000,
        `the timed-out attempt recorded (last seen: ${JSON.stringify(seen)})`,
      );
      assert.match(seen!.error ?? '', /did not answer within 5 s \(504 Request timeout\)/);
      await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body.state === 'offline', 10_000, `${ep} offline after SLEEPING`);
      assert.equal((await leshan.waitForClient(ep)).sleeping, true, 'Leshan lists it as sleeping');
      // what Leshan answers for a sleeping client now (this server: 400, never a delayed request)
      const direct = await fetch(`${leshan.url}/api/clients/${ep}/3/0/9?timeout=1`);
      assert.equal(direct.status, 400);
      assert.equal(await direct.text(), 'Invalid request:The destination client is sleeping, request cannot be sent.');

      dev.resume();
      await dev.update(); // AWAKE + UPDATED: the daemon sends the read again
      const done = await settled(op.id);
      assert.equal(done.status, 'CONFIRMED', JSON.stringify(done));
      assert.equal(done.attempts, 2);
      assert.equal(typeof (done.result?.content as { value?: unknown }).value, 'number', 'battery level');
    },
  );

  it(
    'a client supporting only SenML (its root link lists ct="110 112"): the daemon writes in SENML_CBOR, not the configured TLV it would refuse',
    { timeout: 60_000 },
    async () => {
      const ep = 'e2e-senml';
      const dev = await client(ep, { contentFormats: ['SENML_CBOR', 'SENML_JSON'] });
      const root = ((await leshan.waitForClient(ep)).objectLinks as { url: string; attributes: Record<string, string> }[])[0]!;
      assert.deepEqual(root, { url: '/', attributes: { ct: '"110 112"', rt: '"oma.lwm2m"' } }, 'what the registration says');
      await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body?.state === 'online', 10_000, `${ep} online`);

      // TLV (the daemon's configured leshan.writeFormat) straight through Leshan: the device refuses it
      const tlv = await fetch(`${leshan.url}/api/clients/${ep}/3/0/15?format=TLV&timeout=5`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 15, kind: 'singleResource', type: 'STRING', value: 'Etc/GMT+1' }),
      });
      assert.equal(((await tlv.json()) as { status: string }).status, 'UNSUPPORTED_CONTENT_FORMAT(415)');

      const from = dev.events.length;
      const write = await settled((await queue(ep, { kind: 'write', path: '/3/0/15', value: 'Europe/Berlin' })).id);
      assert.equal(write.status, 'CONFIRMED', JSON.stringify(write));
      assert.equal(write.result?.code, 204);
      const written = await dev.waitFor('written', { from });
      assert.deepEqual([written.path, written.value], ['/3/0/15', 'Europe/Berlin']);
      const chosen = await daemon.waitForLine((l) => l.ep === ep && l.message === 'the device does not list the configured write format');
      assert.deepEqual([chosen.format, chosen.listed], ['SENML_CBOR', [110, 112]]);
    },
  );

  it(
    'cancel-observe of an observed resource is CONFIRMED (Leshan 2.0.0-M4 answers the passive cancel: an empty 200)',
    { timeout: 30_000 },
    async () => {
      const ep = 'e2e-cancel';
      await client(ep);
      await until(async () => (await api('GET', `/api/endpoints/${ep}`)).body?.state === 'online', 10_000, `${ep} online`);
      const observe = await settled((await queue(ep, { kind: 'observe', path: '/3303/0/5700' })).id);
      assert.equal(observe.status, 'CONFIRMED', JSON.stringify(observe));
      const cancel = await queue(ep, { kind: 'cancel-observe', path: '/3303/0/5700' });
      let seen: Operation | undefined;
      await until(
        async () => {
          seen = (await api('GET', `/api/operations/${cancel.id}`)).body as Operation;
          return seen.attempts >= 1 && seen.status !== 'SENDING';
        },
        20_000,
        'the first attempt recorded',
      );
      assert.equal(seen!.status, 'CONFIRMED', JSON.stringify(seen));
    },
  );
});

/**
 * The timestamped route and object 10240 of the posts contract (docs/leshan-posts.md) against a real
 * influxd: values at the device's time, replays that write nothing new, device times the daemon does not
 * use, whole-or-nothing refusals, and registration, presence and queue mode from this project's Leshan.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlockList } from 'node:net';
import { Registry } from 'prom-client';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startController, until, type RunningController, influxConnected } from '../support/controllerHarness.js';
import { testLogger } from '../support/config.js';
import { createLeshanHandler } from '../../src/ingest/leshanHandler.js';
import { Ingest } from '../../src/ingest/ingest.js';
import { registrationPost, singleResource } from '../support/posts.js';

const DB = 'timestamped';
const TIMESTAMPED = '/leshan_api/resource/timestamped';
const COMPOSITE = '/leshan_api/resource/composite';
const SINGLE = '/leshan_api/resource/single';
const HOUR_MS = 3_600_000;

const temp = (value: number) => ({ kind: 'singleResource', id: 5700, type: 'FLOAT', value });
/** An ISO instant with 9 fractional digits: `ms` plus `extraNs` (0-999 999). */
const iso9 = (ms: number, extraNs = 0): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_m, f: string) => `.${f}${String(extraNs).padStart(6, '0')}Z`);
const nsOf = (ms: number, extraNs = 0): string => (BigInt(ms) * 1_000_000n + BigInt(extraNs)).toString();

describe('Timestamped posts land in a real InfluxDB at the device times', () => {
  let influxd: Influxd;
  let d: RunningController;
  const rows = (q: string) => influxd.queryCsv(q, DB);
  const metric = async (pattern: RegExp): Promise<number> =>
    Number((await (await fetch(`${d.url}/metrics`)).text()).match(pattern)?.[1] ?? 0);
  const endpoint = async (ep: string) =>
    (await (await fetch(`${d.url}/api/endpoints/${encodeURIComponent(ep)}`)).json()) as Record<string, unknown>;
  const operations = async (ep: string) =>
    (await (await fetch(`${d.url}/api/endpoints/${encodeURIComponent(ep)}/operations`)).json()) as
      { items?: { path: string }[] } | { path: string }[];

  before(async () => {
    influxd = await startInfluxd();
    d = await startController({
      influx: { url: influxd.url, database: DB, flushIntervalMs: 20, connectIntervalMs: 100 },
      leshan: { url: 'http://127.0.0.1:9' },
      operations: { standingObservations: [{ path: '/3303/0/5700' }, { path: '/5/0/3' }] },
    });
    await until(() => influxConnected(d.url), 10_000, 'InfluxDB connected');
  });
  after(async () => {
    await d?.stop();
    await influxd?.destroy();
  });

  it('a Send of 100 readings taken over a day in one message: 100 points at their device times, ns exact; a replay adds none', async () => {
    const start = Date.now() - 25 * HOUR_MS;
    const readings = Array.from({ length: 100 }, (_, i) => ({
      ms: start + Math.round((i * 24 * HOUR_MS) / 99),
      ns: i * 7919,
      value: 20 + i / 8,
    }));
    const body = { ep: 'sender', val: readings.map((r) => ({ [iso9(r.ms, r.ns)]: { nodes: { '/3303/0/5700': temp(r.value) } } })) };
    const posted = await d.post(TIMESTAMPED, body);
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.deepEqual(posted.body, { accepted: 100 });
    const stored = async () => rows(`SELECT "float" FROM lwm2m WHERE ep='sender' AND time > now() - 30d`);
    await until(async () => (await stored()).length === 100, 10_000, '100 points');
    assert.deepEqual(
      (await stored()).map((r) => [r.time, Number(r.float)]),
      readings.map((r) => [nsOf(r.ms, r.ns), r.value]),
    );
    const written = await metric(/lwm2m_backend_influx_points_written_total (\d+)/);
    assert.equal((await d.post(TIMESTAMPED, body)).status, 201);
    await until(
      async () => (await metric(/lwm2m_backend_influx_points_written_total (\d+)/)) >= written + 100,
      10_000,
      'the replay written',
    );
    assert.equal((await stored()).length, 100, 'the replay overwrote the same points');
    assert.equal(await metric(/lwm2m_backend_ingest_values_total\{route="timestamped"\} (\d+)/), 200);
  });

  it('several timestamps of one resource, multi-instance resources, every type; a "null" entry in the middle at arrival time', async () => {
    const t0 = Date.now() - 2 * HOUR_MS;
    const before = Date.now();
    const r = await d.post(TIMESTAMPED, {
      ep: 'mixed',
      val: [
        {
          [iso9(t0)]: {
            nodes: {
              '/3303/0/5700': temp(1.5),
              '/3/0/7': { kind: 'multiResource', id: 7, type: 'INTEGER', values: { '0': '3300', '1': '5000' } },
              '/3/0/0': { kind: 'singleResource', id: 0, type: 'STRING', value: 'Zephyr' },
              '/3342/0/5500': { kind: 'singleResource', id: 5500, type: 'BOOLEAN', value: true },
              '/3/0/13': { kind: 'singleResource', id: 13, type: 'TIME', value: 1732550000123 },
            },
          },
        },
        { null: { nodes: { '/3303/0/5700': temp(2.5) } } },
        { [iso9(t0 + 60_000)]: { nodes: { '/3303/0/5700': temp(3.5), '/3303/1/5700': null } } },
      ],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { accepted: 8, nullNodes: 1 });
    await until(async () => (await rows(`SELECT * FROM lwm2m WHERE ep='mixed' AND time > now() - 1d`)).length === 8, 10_000, '8 points');
    const temps = await rows(`SELECT "float" FROM lwm2m WHERE ep='mixed' AND obj='3303' AND time > now() - 1d`);
    assert.deepEqual(
      temps.map((x) => Number(x.float)),
      [1.5, 3.5, 2.5],
    );
    assert.deepEqual([temps[0]!.time, temps[1]!.time], [nsOf(t0), nsOf(t0 + 60_000)]);
    assert.ok(BigInt(temps[2]!.time!) >= BigInt(before) * 1_000_000n, 'the "null" entry at arrival time');
    const voltages = await rows(`SELECT "int" FROM lwm2m WHERE ep='mixed' AND obj='3' AND res='7' AND time > now() - 1d GROUP BY ri`);
    assert.deepEqual(
      voltages.map((x) => [x.tags, x.int, x.time]),
      [
        ['ri=0', '3300', nsOf(t0)],
        ['ri=1', '5000', nsOf(t0)],
      ],
    );
    const others = await rows(
      `SELECT "string", "bool", "int" FROM lwm2m WHERE ep='mixed' AND (obj='3342' OR res='0' OR res='13') AND time > now() - 1d`,
    );
    assert.equal(others.length, 3);
    for (const o of others) assert.equal(o.time, nsOf(t0));
  });

  it('a device time beyond ingest.maxFutureSkewMs or before 2000 is written at arrival time, kept in device_time and counted', async () => {
    const future = iso9(Date.now() + 3_600_000, 5);
    const r = await d.post(TIMESTAMPED, {
      ep: 'badclock',
      val: [{ [future]: { nodes: { '/3303/0/5700': temp(1) } } }, { '1970-01-01T00:00:42Z': { nodes: { '/3303/0/5700': temp(2) } } }],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await until(async () => (await rows(`SELECT * FROM lwm2m WHERE ep='badclock'`)).length === 2, 10_000, '2 points');
    const got = await rows(`SELECT "float", "device_time" FROM lwm2m WHERE ep='badclock' AND time > now() - 1h AND time < now() + 1m`);
    assert.deepEqual(
      got.map((x) => [Number(x.float), x.device_time]),
      [
        [1, future],
        [2, '1970-01-01T00:00:42Z'],
      ],
    );
    assert.equal(await metric(/lwm2m_backend_ingest_device_times_unused_total\{reason="future"\} (\d+)/), 1);
    assert.equal(await metric(/lwm2m_backend_ingest_device_times_unused_total\{reason="before_2000"\} (\d+)/), 1);
  });

  it('refuses a malformed timestamped post whole with 400 naming the field, and counts it', async () => {
    const t = iso9(Date.now() - HOUR_MS);
    for (const [body, field] of [
      [
        { ep: 'refused', val: [{ [t]: { nodes: { '/3303/0/5700': temp(1) } } }, { '2026-02-30T00:00:00Z': { nodes: {} } }] },
        'val[1]["2026-02-30T00:00:00Z"]',
      ],
      [
        {
          ep: 'refused',
          val: [
            {
              [t]: {
                nodes: { '/3303/0/5700': temp(1), '/3303/0/5701': { kind: 'singleResource', id: 5701, type: 'INTEGER', value: 'x' } },
              },
            },
          ],
        },
        `val[0][${JSON.stringify(t)}].nodes["/3303/0/5701"].value`,
      ],
      [{ ep: 'refused', val: { [t]: {} } }, 'val'],
    ] as const) {
      const r = await d.post(TIMESTAMPED, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'invalid_post');
      assert.equal(r.body.error.details.field, field);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await rows(`SELECT * FROM lwm2m WHERE ep='refused' AND time > now() - 1d`)).length, 0);
    assert.equal(await metric(/lwm2m_backend_ingest_posts_total\{route="timestamped",status="400"\} (\d+)/), 3);
  });

  it('a notification keyed at resource level keeps its instance', async () => {
    const r = await d.post(COMPOSITE, { ep: 'notify', val: { '/3303/1/5700': temp(7.25) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await until(async () => (await rows(`SELECT "float" FROM lwm2m WHERE ep='notify'`)).length === 1);
    const got = await rows(`SELECT "float" FROM lwm2m WHERE ep='notify' GROUP BY inst, res`);
    assert.deepEqual(
      got.map((x) => [x.tags, x.float]),
      [['inst=1,res=5700', '7.25']],
    );
  });

  it('the registration composite: one event with its details, queue mode and object links used; presence from 3 and 4', async () => {
    const res = singleResource;
    const registrationDate = Date.now() - 1000;
    const composite = (id: 0 | 2, queueMode: boolean) =>
      registrationPost('contract', {
        resource: id,
        date: registrationDate,
        queueMode,
        links: '</>;rt="oma.lwm2m";ct=60 110 112,</1/0>,</3/0>,</3303/0>',
        lifetime: 300,
      });
    const r = await d.post(COMPOSITE, composite(0, false));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { accepted: 5 });
    const view = await endpoint('contract');
    assert.equal(view.queueMode, false, 'queue mode from resource 5');
    // standing observations on the objects the registration lists: /3303/0/5700, not /5/0/3
    await until(async () => {
      const ops = await operations('contract');
      return (Array.isArray(ops) ? ops : (ops.items ?? [])).length > 0;
    });
    const ops = await operations('contract');
    assert.deepEqual(
      (Array.isArray(ops) ? ops : (ops.items ?? [])).map((o) => o.path),
      ['/3303/0/5700'],
    );
    await d.post(SINGLE, { ep: 'contract', obj_id: 10240, val: res(3, 'TIME', registrationDate + 10) });
    await d.post(SINGLE, { ep: 'contract', obj_id: 10240, val: res(4, 'TIME', registrationDate + 20) });
    assert.equal((await d.post(COMPOSITE, composite(2, true))).status, 201);
    assert.equal((await d.post(SINGLE, { ep: 'contract', obj_id: 10240, val: res(1, 'TIME', registrationDate) })).status, 201);
    await until(async () => (await rows(`SELECT * FROM registration WHERE ep='contract'`)).length === 5, 10_000, '5 events');
    const events = await rows(
      'SELECT "event", "registration_time", "event_time", "queue_mode", "binding", "object_links", "lifetime" ' +
        "FROM registration WHERE ep='contract'",
    );
    assert.deepEqual(
      events.map((e) => [e.event, e.registration_time, e.event_time, e.queue_mode, e.binding, e.lifetime]),
      [
        ['registered', String(registrationDate), '', 'false', 'U', '300'],
        ['awake', '', String(registrationDate + 10), '', '', ''],
        ['sleeping', '', String(registrationDate + 20), '', '', ''],
        ['updated', String(registrationDate), '', 'true', 'UQ', '300'],
        ['deregistered', String(registrationDate), '', '', '', ''],
      ],
    );
    assert.equal(events[0]!.object_links, '</>;rt="oma.lwm2m";ct=60 110 112,</1/0>,</3/0>,</3303/0>');
    assert.equal((await rows(`SELECT * FROM lwm2m WHERE ep='contract' AND obj='10240'`)).length, 0, '10240 is not device data');
    assert.equal((await endpoint('contract')).state, 'offline');
  });
});

describe('The timestamped route with leshan.ingress "events"', () => {
  it('is refused with 409, as the other Leshan routes are', async () => {
    const lines: string[] = [];
    const handler = createLeshanHandler({
      ingest: new Ingest({ sink: { write: (l) => lines.push(l) } }),
      allowFrom: new BlockList(),
      bodyLimitBytes: 1024,
      registry: new Registry(),
      log: testLogger(),
      enabled: false,
    });
    const server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await fetch(`http://127.0.0.1:${port}${TIMESTAMPED}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ep: 'x', val: [{ null: { nodes: { '/3303/0/5700': temp(1) } } }] }),
      });
      assert.equal(r.status, 409);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'ingress_disabled');
      assert.deepEqual(lines, []);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

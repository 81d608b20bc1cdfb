import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startController, until, type RunningController, influxConnected } from '../support/controllerHarness.js';

const DB = 'ingest';
const single = '/leshan_api/resource/single';
const composite = '/leshan_api/resource/composite';

describe('Leshan posts land in a real InfluxDB', () => {
  let influxd: Influxd;
  let d: RunningController;
  const rows = (q: string) => influxd.queryCsv(q, DB);

  before(async () => {
    influxd = await startInfluxd();
    d = await startController({ influx: { url: influxd.url, database: DB, flushIntervalMs: 20, connectIntervalMs: 100 } });
    await until(() => influxConnected(d.url), 10_000, 'InfluxDB connected');
  });
  after(async () => {
    await d?.stop();
    await influxd?.destroy();
  });

  it('round-trips every LwM2M type with its value and field type', async () => {
    const sent: [number, string, unknown, string, string][] = [
      // resource, type, value as posted, field, value as InfluxDB prints it
      [0, 'STRING', 'Zephyr "RTOS"\nv3', 'string', 'Zephyr "RTOS"\nv3'],
      [1, 'INTEGER', '9007199254740993', 'int', '9007199254740993'],
      [2, 'INTEGER', -42, 'int', '-42'],
      [3, 'UNSIGNED_INTEGER', '18446744073709551615', 'string', '18446744073709551615'],
      [4, 'UNSIGNED_INTEGER', 7, 'int', '7'],
      [5, 'FLOAT', '24.899181214836236', 'float', '24.899181214836236'],
      [6, 'BOOLEAN', true, 'bool', 'true'],
      [7, 'TIME', 1732550000123, 'int', '1732550000123'],
      [8, 'OPAQUE', 'CAFE01', 'string', 'cafe01'],
      [9, 'OBJLNK', { objectId: 3303, objectInstanceId: 1 }, 'string', '3303:1'],
    ];
    for (const [id, type, value] of sent) {
      const r = await d.post(single, { ep: 'types', obj_id: 40000, val: { kind: 'singleResource', id, type, value } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body, { accepted: 1 });
    }
    await until(async () => (await rows(`SELECT * FROM lwm2m WHERE ep='types'`)).length === sent.length);
    const got = await rows(`SELECT * FROM lwm2m WHERE ep='types' GROUP BY *`);
    for (const [id, type, , field, expected] of sent) {
      const row = got.find((r) => r.tags?.includes(`res=${id},`) || r.tags?.includes(`res=${id}`));
      assert.ok(row, `no row for resource ${id}: ${JSON.stringify(got)}`);
      assert.equal(row[field], expected, `resource ${id} (${type})`);
      assert.match(row.tags ?? '', new RegExp(`type=${type}`));
    }
    const fields = await influxd.query('SHOW FIELD KEYS FROM lwm2m', DB);
    const types = Object.fromEntries(fields.results[0]!.series![0]!.values.map((v) => [v[0], v[1]]));
    assert.deepEqual(types, { bool: 'boolean', float: 'float', int: 'integer', string: 'string' });
  });

  it('keeps each instance of a multi-instance resource as its own series', async () => {
    const r = await d.post(single, {
      ep: 'multi',
      obj_id: 3,
      val: { kind: 'multiResource', id: 7, type: 'INTEGER', values: { '0': '3300', '1': '5000' } },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body, { accepted: 2 });
    await until(async () => (await rows(`SELECT "int" FROM lwm2m WHERE ep='multi'`)).length === 2);
    const byRi = await rows(`SELECT last("int") FROM lwm2m WHERE ep='multi' AND obj='3' AND res='7' GROUP BY ri`);
    assert.deepEqual(
      byRi.map((x) => [x.tags, x.last]),
      [
        ['ri=0', '3300'],
        ['ri=1', '5000'],
      ],
    );
  });

  it("stores the seed's example payloads and a composite of several objects, with readable names", async () => {
    assert.equal(
      (
        await d.post(single, {
          ep: 'qemu_x86',
          obj_id: 3303,
          val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '24.899181214836236' },
        })
      ).status,
      201,
    );
    const device = {
      instances: [
        {
          kind: 'instance',
          resources: [
            { kind: 'singleResource', id: 0, type: 'STRING', value: 'Zephyr' },
            { kind: 'multiResource', id: 6, type: 'INTEGER', values: { '0': '1', '1': '5' } },
            { kind: 'singleResource', id: 17, type: 'STRING', value: 'qemu_x86' },
          ],
          id: 0,
        },
      ],
      kind: 'obj',
      id: 3,
    };
    assert.deepEqual((await d.post(composite, { ep: 'qemu_x86', val: device })).body, { accepted: 4 });
    const both = await d.post(composite, {
      ep: 'qemu_x86',
      val: {
        '/3': device,
        '/3304': {
          kind: 'obj',
          id: 3304,
          instances: [{ kind: 'instance', id: 0, resources: [{ kind: 'singleResource', id: 5700, type: 'FLOAT', value: '41.5' }] }],
        },
      },
    });
    assert.deepEqual(both.body, { accepted: 5 });
    await until(async () => (await rows(`SELECT * FROM lwm2m WHERE ep='qemu_x86'`)).length === 10);
    const temp = await rows(`SELECT "float" FROM lwm2m WHERE ep='qemu_x86' AND "object"='Temperature' AND "resource"='Sensor Value'`);
    assert.deepEqual(
      temp.map((r) => r.float),
      ['24.899181214836236'],
    );
    const humidity = await rows(`SELECT "float" FROM lwm2m WHERE ep='qemu_x86' AND obj='3304' AND inst='0' AND res='5700'`);
    assert.deepEqual(
      humidity.map((r) => r.float),
      ['41.5'],
    );
    const manufacturer = await rows(`SELECT "string" FROM lwm2m WHERE ep='qemu_x86' AND "resource"='Manufacturer'`);
    assert.deepEqual(
      manufacturer.map((r) => r.string),
      ['Zephyr', 'Zephyr'],
    );
  });

  it('records object 10240 as registration events, not as data', async () => {
    for (const id of [0, 2, 2, 1]) {
      assert.equal(
        (await d.post(single, { ep: 'reg', obj_id: 10240, val: { kind: 'singleResource', id, type: 'TIME', value: 1732550000000 } }))
          .status,
        201,
      );
    }
    await until(async () => (await rows(`SELECT * FROM registration WHERE ep='reg'`)).length === 4);
    const events = await rows(`SELECT "event", registration_time FROM registration WHERE ep='reg'`);
    assert.deepEqual(
      events.map((e) => e.event),
      ['registered', 'updated', 'updated', 'deregistered'],
    );
    assert.ok(events.every((e) => e.registration_time === '1732550000000'));
    assert.equal((await rows(`SELECT * FROM lwm2m WHERE ep='reg'`)).length, 0);
  });

  it('answers 4xx JSON naming the problem, and stores nothing of a refused post', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      ['{"ep":', 400, 'malformed_json', /not valid JSON/],
      [{ obj_id: 3, val: {} }, 400, 'invalid_post', /^ep: missing ep/],
      [
        { ep: 'bad', obj_id: 3303, val: { kind: 'singleResource', id: 5700, type: 'BLOB', value: '1' } },
        400,
        'invalid_post',
        /^val\.type: unknown type/,
      ],
      [
        { ep: 'bad', obj_id: 3303, val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: 'hot' } },
        400,
        'invalid_post',
        /^val\.value: /,
      ],
      [{ ep: 'bad', obj_id: 99999, val: {} }, 400, 'invalid_post', /^obj_id: /],
      [
        JSON.stringify({ ep: 'bad', obj_id: 3, val: { kind: 'singleResource', id: 0, type: 'STRING', value: 'x'.repeat(2_000_000) } }),
        413,
        'body_too_large',
        /bytes/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await d.post(single, body);
      assert.equal(r.status, status, JSON.stringify(r.body).slice(0, 200));
      assert.equal(r.body.error.code, code);
      assert.match(r.body.error.message, message);
    }
    const good = { kind: 'singleResource', id: 0, type: 'STRING', value: 'ok' };
    const partial = await d.post(composite, {
      ep: 'bad',
      val: { '/3/0/0': good, '/3/0/1': { ...good, id: 1, type: 'INTEGER', value: 'x' } },
    });
    assert.equal(partial.status, 400);
    assert.equal(partial.body.error.details.field, 'val["/3/0/1"].value');
    const wrongType = await d.post(single, 'ep=x', { 'content-type': 'text/plain' });
    assert.equal(wrongType.status, 415);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await rows(`SELECT * FROM lwm2m WHERE ep='bad'`)).length, 0);
  });

  it('answers 405 to other methods, 413 to a chunked body over the limit, and takes a JSON charset', async () => {
    const get = await fetch(`${d.url}${single}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(((await get.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
    const big = JSON.stringify({
      ep: 'bad',
      obj_id: 3,
      val: { kind: 'singleResource', id: 0, type: 'STRING', value: 'x'.repeat(1_100_000) },
    });
    const chunked = await fetch(`${d.url}${single}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < big.length; i += 65536) controller.enqueue(new TextEncoder().encode(big.slice(i, i + 65536)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.equal(((await chunked.json()) as { error: { code: string } }).error.code, 'body_too_large');
    const charset = await d.post(
      single,
      { ep: 'charset', obj_id: 3, val: { kind: 'singleResource', id: 0, type: 'STRING', value: 'ü' } },
      { 'content-type': 'application/json; charset=utf-8' },
    );
    assert.equal(charset.status, 201);
    await until(async () => (await rows(`SELECT "string" FROM lwm2m WHERE ep='charset'`)).length === 1);
    assert.equal((await rows(`SELECT "string" FROM lwm2m WHERE ep='charset'`))[0]?.string, 'ü');
  });

  it('takes a composite post with a null node: 201 with the others, the null counted', async () => {
    const r = await d.post('/leshan_api/resource/composite', {
      ep: 'null-node',
      val: { '/3303/0/5700': null, '/3303/0/5701': { kind: 'singleResource', id: 5701, type: 'STRING', value: 'Cel' } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { accepted: 1, nullNodes: 1 });
    const text = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(text, /lwm2m_backend_ingest_null_nodes_total [1-9]/);
  });

  it('takes a post whose URL has a query string (a proxy or a cache buster adds one)', async () => {
    const r = await d.post(`${single}?source=leshan&t=1`, {
      ep: 'with-query',
      obj_id: 3303,
      val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '20.5' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await until(async () => (await rows(`SELECT "float" FROM lwm2m WHERE ep='with-query'`)).length === 1);
  });

  it('counts values and posts in /metrics', async () => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    const value = (pattern: RegExp) => Number(text.match(pattern)?.[1]);
    assert.ok(value(/lwm2m_backend_ingest_values_total\{route="single"\} (\d+)/) >= 10);
    assert.ok(value(/lwm2m_backend_ingest_posts_total\{route="single",status="400"\} (\d+)/) >= 4);
    assert.ok(value(/lwm2m_backend_influx_points_written_total (\d+)/) >= 20);
  });
});

describe('Leshan routes allow-list', () => {
  it('refuses posts from addresses outside http.leshanAllowFrom with 403', async () => {
    const d = await startController({ http: { leshanAllowFrom: ['10.0.0.0/8'] }, influx: { url: 'http://127.0.0.1:9' } });
    try {
      const r = await d.post(single, { ep: 'x', obj_id: 3, val: { kind: 'singleResource', id: 0, type: 'STRING', value: 'a' } });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'forbidden');
      assert.match(r.body.error.message, /127\.0\.0\.1/);
    } finally {
      await d.stop();
    }
  });
});

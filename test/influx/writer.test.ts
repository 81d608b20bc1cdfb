import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInfluxd, type Influxd } from '../support/influxd.js';
import { startInflux2Double, type Influx2Double } from '../support/influx2Double.js';
import { startWriter } from '../support/writerHarness.js';
import { parseRetryAfter } from '../../src/influx/send.js';
import { until } from '../support/controllerHarness.js';

const line = (i: number, measurement = 'm'): string => `${measurement} v=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`;

async function count(influxd: Influxd, db: string, measurement: string): Promise<number> {
  const r = await influxd.query(`SELECT count(v) FROM "${measurement}"`, db);
  return Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

describe('InfluxWriter against a real influxd (1.x API)', () => {
  let influxd: Influxd;
  before(async () => {
    influxd = await startInfluxd();
  });
  after(async () => {
    await influxd.destroy();
  });

  it('writes every line and counts it written only once acknowledged', async () => {
    const h = await startWriter({ url: influxd.url, database: 'w1' }, 'v1', { batchSize: 100 });
    for (let i = 0; i < 1234; i++) h.writer.write(line(i));
    await h.writer.flush();
    assert.equal(await count(influxd, 'w1', 'm'), 1234);
    assert.equal(await h.metric('lwm2m_backend_influx_points_written_total'), 1234);
    await h.close(true);
  });

  it('sends a partial batch after flushIntervalMs without any flush call', async () => {
    const h = await startWriter({ url: influxd.url, database: 'w2' }, 'v1', { flushIntervalMs: 50 });
    h.writer.write(line(1));
    await until(async () => (await count(influxd, 'w2', 'm')) === 1, 3000);
    await h.close(true);
  });

  it('drops and counts only the line InfluxDB rejects (field type conflict), keeping its neighbours', async () => {
    const h = await startWriter({ url: influxd.url, database: 'w3' }, 'v1', { batchSize: 1000 });
    h.writer.write('t v=1i 1');
    await h.writer.flush();
    for (let i = 0; i < 9; i++) h.writer.write(`t v=${i + 10}i ${i + 10}`);
    h.writer.write('t v="a string" 100'); // v is an integer field already
    for (let i = 0; i < 9; i++) h.writer.write(`t v=${i + 20}i ${i + 20}`);
    await h.writer.flush();
    const r = await influxd.query('SELECT count(v) FROM t', 'w3');
    assert.equal(r.results[0]?.series?.[0]?.values[0]?.[1], 19);
    assert.equal(await h.metric('lwm2m_backend_influx_points_dropped_total', { reason: 'invalid' }), 1);
    assert.equal(await h.metric('lwm2m_backend_influx_points_written_total'), 19);
    await h.close(true);
  });

  it('spools while InfluxDB is down and replays every point, once, when it is back', async () => {
    const h = await startWriter({ url: influxd.url, database: 'w4' }, 'v1', { batchSize: 500, flushIntervalMs: 20 });
    for (let i = 0; i < 300; i++) h.writer.write(line(i, 'o'));
    await h.writer.flush();
    await influxd.stop();
    for (let i = 300; i < 3000; i++) h.writer.write(line(i, 'o'));
    await h.writer.flush();
    assert.ok(h.writer.spooledLines > 0, 'points are in the spool while InfluxDB is down');
    assert.ok((await h.metric('lwm2m_backend_influx_write_errors_total', { kind: 'connection' })) >= 1);
    await influxd.start();
    await until(() => h.writer.spooledLines === 0 && h.writer.bufferedLines === 0);
    // written while the replay may still be finishing: they go to InfluxDB directly or through the spool
    for (let i = 3000; i < 3100; i++) h.writer.write(line(i, 'o'));
    await h.writer.flush();
    await until(async () => (await count(influxd, 'w4', 'o')) >= 3100);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await count(influxd, 'w4', 'o'), 3100, 'every point once');
    await h.close(true);
  });

  it('keeps what could not be written across a graceful restart of the writer', async () => {
    await influxd.stop();
    const first = await startWriter({ url: influxd.url, database: 'w5' }, 'v1', { batchSize: 100 });
    for (let i = 0; i < 777; i++) first.writer.write(line(i, 'r'));
    await first.close();
    assert.equal(first.spool.lines, 777);
    await influxd.start();
    const second = await startWriter({ url: influxd.url, database: 'w5' }, 'v1', {}, first.spoolDir);
    await until(() => second.writer.spooledLines === 0);
    assert.equal(await count(influxd, 'w5', 'r'), 777);
    await second.close(true);
  });
});

describe('InfluxWriter against the 2.x API', () => {
  let server: Influx2Double;
  before(async () => {
    server = await startInflux2Double({ buckets: ['b'] });
  });
  after(async () => {
    await server.close();
  });
  const v2 = () => ({ url: server.url, token: server.token, org: server.org, bucket: 'b' });

  it('posts to /api/v2/write with token, org and bucket, in batches of batchSize', async () => {
    server.writes.length = 0;
    server.requests.length = 0;
    const h = await startWriter(v2(), 'v2', { batchSize: 10 });
    for (let i = 0; i < 25; i++) h.writer.write(line(i));
    await h.writer.flush();
    assert.deepEqual(server.writes.map((w) => w.lines.length).sort(), [10, 10, 5]);
    const write = server.requests.find((r) => r.url.startsWith('/api/v2/write'))!;
    assert.equal(write.url, '/api/v2/write?org=test-org&bucket=b&precision=ns');
    assert.equal(write.headers.authorization, `Token ${server.token}`);
    assert.match(String(write.headers['content-type']), /^text\/plain/);
    await h.close(true);
  });

  it('splits a batch InfluxDB finds too large (413) until it fits', async () => {
    server.writes.length = 0;
    server.maxBodyBytes = 400;
    const h = await startWriter(v2(), 'v2', { batchSize: 64 });
    for (let i = 0; i < 64; i++) h.writer.write(line(i));
    await h.writer.flush();
    server.maxBodyBytes = Infinity;
    const got = server.writes.flatMap((w) => w.lines);
    assert.equal(got.length, 64);
    assert.deepEqual(new Set(got), new Set(Array.from({ length: 64 }, (_, i) => line(i))));
    assert.ok(server.writes.length >= 8);
    await h.close(true);
  });

  it('honours Retry-After on 429 and retries 5xx, losing nothing', async () => {
    server.writes.length = 0;
    server.failNext.push({ status: 429, headers: { 'retry-after': '0.3' } }, { status: 503 });
    const h = await startWriter(v2(), 'v2', { batchSize: 5 });
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) h.writer.write(line(i));
    await h.writer.flush();
    await until(() => server.writes.length === 1);
    assert.ok(Date.now() - t0 >= 300, 'waited at least Retry-After');
    assert.deepEqual(server.writes[0]!.lines, Array.from({ length: 5 }, (_, i) => line(i)));
    assert.equal(await h.metric('lwm2m_backend_influx_write_errors_total', { kind: 'rate_limited' }), 1);
    assert.equal(await h.metric('lwm2m_backend_influx_write_errors_total', { kind: 'server' }), 1);
    await h.close(true);
  });

  it('bounds requests in flight', async () => {
    server.writes.length = 0;
    const h = await startWriter(v2(), 'v2', { batchSize: 1, maxInFlight: 2 });
    let peak = 0;
    let open = 0;
    const pool = (h.writer as unknown as { endpoint: { pool: { request: (o: unknown) => Promise<unknown> } } }).endpoint.pool;
    const request = pool.request.bind(pool);
    pool.request = async (o: unknown) => {
      open++;
      peak = Math.max(peak, open);
      try {
        return await request(o);
      } finally {
        open--;
      }
    };
    for (let i = 0; i < 50; i++) h.writer.write(line(i));
    await h.writer.flush();
    assert.equal(server.writes.length, 50);
    assert.equal(peak, 2);
    await h.close(true);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:05 GMT', 1000), 4000);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

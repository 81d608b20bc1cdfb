import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startInflux2Double, type Influx2Double } from '../support/influx2Double.js';
import { startWriter } from '../support/writerHarness.js';
import { parseRetryAfter } from '../../src/influx/send.js';
import { dataLine, endpointTag } from '../../src/ingest/points.js';
import type { ResourceValue } from '../../src/lwm2m/node.js';

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const line = (i: number, measurement = 'm'): string => `${measurement} v=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`;

async function count(influxd: Influxd, db: string, measurement: string, field = 'v'): Promise<number> {
  const r = await influxd.query(`SELECT count("${field}") FROM "${measurement}"`, db);
  return Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
}

const T0 = 1_700_000_000_000_000_000n;
const stringValue = (ep: string, res: number, value: string, ts: bigint): string =>
  dataLine(
    endpointTag(ep),
    { objectId: 3, instanceId: 0, resourceId: res, value: { type: 'STRING', value } } satisfies ResourceValue,
    String(ts),
  );
/**
 * A line InfluxDB refuses (the tag value ends in a backslash, which escapes the space after it), with a
 * control byte: InfluxDB echoes the line in its X-Influxdb-Error header, which undici cannot read.
 */
const unreadable = (ts: bigint): string => `lwm2m,ep=bad\\ string="\u0001 ctrl" ${ts}`;

/** The STRING values of measurement lwm2m for endpoint `ep`, by resource id. */
async function strings(influxd: Influxd, db: string, ep: string): Promise<Map<number, string>> {
  const r = await influxd.query(`SELECT "string", "res" FROM lwm2m WHERE ep = '${ep}'`, db);
  const rows = (r.results[0]?.series?.[0]?.values ?? []) as [number, string, string][];
  return new Map(rows.map(([, s, res]) => [Number(res), s]));
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

  it('bisects a batch InfluxDB answers unreadably: exactly the 1000 good lines land, the bad one is set aside, InfluxDB stays up', async () => {
    const h = await startWriter({ url: influxd.url, database: 'b1' }, 'v1', { batchSize: 2000 });
    const states: string[] = [];
    h.connection.onChange((s) => states.push(s));
    const values = Array.from({ length: 1000 }, (_, i) => `v${i}${i % 7 === 0 ? '\u0001\u0000\n\r"\\' : ''}`);
    for (let i = 0; i < 1000; i++) {
      if (i === 613) h.writer.write(unreadable(T0 + 5000n));
      h.writer.write(stringValue('good', i, values[i]!, T0 + BigInt(i)));
    }
    await h.writer.flush();
    assert.equal(await count(influxd, 'b1', 'lwm2m', 'string'), 1000, 'every good line, once');
    const back = await strings(influxd, 'b1', 'good');
    for (let i = 0; i < 1000; i++) assert.equal(back.get(i), values[i]);
    assert.equal(await h.metric('lwm2m_backend_influx_points_written_total'), 1000);
    assert.equal(await h.metric('lwm2m_backend_influx_points_dropped_total', { reason: 'unreadable_response' }), 1);
    assert.equal(h.writer.spooledLines, 0, 'nothing went to the spool');
    assert.deepEqual(states, [], 'InfluxDB was never reported down');
    assert.equal(h.connection.state, 'up');
    const rejected = await readFile(path.join(h.spoolDir, 'rejected.lp'), 'utf8');
    assert.ok(rejected.includes(unreadable(T0 + 5000n)), 'the bad line is kept aside for an operator');
    // and writing goes on
    h.writer.write(stringValue('after', 1, 'x', T0 + 9000n));
    await h.writer.flush();
    assert.equal((await strings(influxd, 'b1', 'after')).get(1), 'x');
    await h.close(true);
  });

  it('a refused line with a control byte and an open quote swallows its neighbours in InfluxDB: they land all the same', async () => {
    const h = await startWriter({ url: influxd.url, database: 'b2' }, 'v1', { batchSize: 100 });
    h.writer.write(stringValue('n', 1, 'first', T0 + 1n));
    h.writer.write(`lwm2m,ep=n string="\u0007 never closed ${T0 + 2n}`);
    h.writer.write(stringValue('n', 3, 'bell \u0007 and\nnewline', T0 + 3n));
    h.writer.write(stringValue('n', 4, 'last', T0 + 4n));
    await h.writer.flush();
    assert.deepEqual(
      [...(await strings(influxd, 'b2', 'n'))].sort(([a], [b]) => a - b),
      [
        [1, 'first'],
        [3, 'bell \u0007 and\nnewline'],
        [4, 'last'],
      ],
    );
    assert.equal(await h.metric('lwm2m_backend_influx_points_dropped_total'), 1);
    assert.equal(h.writer.spooledLines, 0);
    assert.equal(h.connection.state, 'up');
    await h.close(true);
  });

  it('replays a spool holding a bad line: the line is set aside, every other one lands, and writing goes on', async () => {
    await influxd.stop();
    const first = await startWriter({ url: influxd.url, database: 'b3' }, 'v1', { batchSize: 50 });
    for (let i = 0; i < 120; i++) {
      if (i === 60) first.writer.write(unreadable(T0 + 7000n));
      first.writer.write(stringValue('s', i, `s${i}`, T0 + BigInt(i)));
    }
    await first.close();
    assert.equal(first.spool.lines, 121);
    await influxd.start();
    const second = await startWriter({ url: influxd.url, database: 'b3' }, 'v1', { batchSize: 50 }, first.spoolDir);
    await until(() => second.writer.spooledLines === 0, 10_000, 'the spool replayed');
    assert.equal(await count(influxd, 'b3', 'lwm2m', 'string'), 120);
    assert.equal(await second.metric('lwm2m_backend_influx_points_dropped_total', { reason: 'unreadable_response' }), 1);
    second.writer.write(stringValue('s', 500, 'later', T0 + 500n));
    await second.writer.flush();
    assert.equal((await strings(influxd, 'b3', 's')).get(500), 'later');
    assert.equal(second.connection.state, 'up');
    await second.close(true);
  });

  it('a STRING with newlines, CR, NUL and quotes survives the spool and the replay exactly', async () => {
    await influxd.stop();
    const values = ['line1\nline2\nline3', '\n\n', 'cr\r\nlf', 'nul\u0000', 'q"uo\\te\\', 'emoji \ud83d\ude00', '#not a comment\nm v=1i 1'];
    const first = await startWriter({ url: influxd.url, database: 'b4' }, 'v1', { batchSize: 3 });
    values.forEach((v, i) => first.writer.write(stringValue('nl', i, v, T0 + BigInt(i))));
    await first.close();
    assert.equal(first.spool.lines, values.length);
    await influxd.start();
    // replayed two lines at a time: a record cut at a newline in a value would show
    const second = await startWriter({ url: influxd.url, database: 'b4' }, 'v1', { batchSize: 2 }, first.spoolDir);
    await until(() => second.writer.spooledLines === 0, 10_000, 'the spool replayed');
    const back = await strings(influxd, 'b4', 'nl');
    assert.deepEqual(
      [...back].sort(([a], [b]) => a - b),
      values.map((v, i) => [i, v]),
    );
    assert.equal(await count(influxd, 'b4', 'm'), 0, 'nothing in a value became a point of its own');
    await second.close(true);
  });

  it('a spool segment of random bytes left by an older version does not stop writing', async () => {
    await influxd.stop();
    const first = await startWriter({ url: influxd.url, database: 'b5' }, 'v1', { batchSize: 10 });
    for (let i = 0; i < 30; i++) first.writer.write(stringValue('r', i, `r${i}`, T0 + BigInt(i)));
    await first.close();
    // an old-format (newline-separated) segment that sorts first, full of random bytes
    await writeFile(path.join(first.spoolDir, '000000000000.lp'), Buffer.concat([randomBytes(6000), Buffer.from('\n')]));
    // and a framed segment of random bytes after the good one
    await writeFile(path.join(first.spoolDir, '000000000099.spool'), randomBytes(5000));
    await influxd.start();
    const second = await startWriter({ url: influxd.url, database: 'b5' }, 'v1', {}, first.spoolDir);
    await until(() => second.writer.spooledLines === 0, 20_000, 'the spool replayed');
    assert.equal(await count(influxd, 'b5', 'lwm2m', 'string'), 30);
    assert.equal(second.connection.state, 'up');
    assert.equal(await second.metric('lwm2m_backend_influx_spool_damaged_total', { kind: 'corrupt' }), 1);
    second.writer.write(stringValue('r', 99, 'after', T0 + 99n));
    await second.writer.flush();
    assert.equal((await strings(influxd, 'b5', 'r')).get(99), 'after');
    await second.close(true);
  });
});

describe('InfluxWriter behind something that breaks every write while /ping answers', () => {
  it('sets nothing aside: the points are spooled and InfluxDB is reported down', async () => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/ping')) res.writeHead(204).end();
      else if (req.url?.startsWith('/query'))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
      else req.socket.destroy(); // every write: the connection drops, no answer
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const h = await startWriter({ url, database: 'x' }, 'v1', { batchSize: 16, retryMinMs: 60_000, retryMaxMs: 60_000 });
    assert.equal(h.connection.state, 'up');
    for (let i = 0; i < 16; i++) h.writer.write(line(i));
    await h.writer.flush();
    assert.equal(await h.metric('lwm2m_backend_influx_points_dropped_total'), 0, 'no point set aside');
    assert.equal(h.writer.spooledLines, 16, 'every point kept in the spool');
    assert.equal(h.connection.state, 'down');
    await h.close(true);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
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
    assert.deepEqual(
      server.writes[0]!.lines,
      Array.from({ length: 5 }, (_, i) => line(i)),
    );
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

/**
 * Hostile values for InfluxDB, against the real daemon process (tools/daemon.ts) writing to a real
 * influxd 1.6: fuzzed endpoint names and values posted to /leshan_api/resource/single and /composite. No
 * post may get a 5xx, every value the daemon accepted must land in InfluxDB (counted exactly, strings read
 * back exactly), and /health must still say InfluxDB is ok. The daemon starts on a spool a previous
 * version left with a line InfluxDB refuses unreadably (a control byte in the echo) and random bytes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';

const DB = 'hostile';

/** Any JS string: arbitrary UTF-16 code units, and strings of the characters line protocol cares about. */
const anyString = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom('\\', '"', "'", '\n', '\r', '\u0000', '\u0001', '\u0085', ' ', ',', '=', '#', '\t', '\ud800', 'a', '/'),
    maxLength: 20,
  }),
);
const endpointName = fc.oneof(anyString, fc.constantFrom('dev-1', 'qemu_x86', 'a b', 'a,b=c', 'ends\\', 'x'.repeat(257), ''));

const INT64 = 2n ** 63n;
/** A resource node of any type, with a value that may or may not fit it. */
const resource = (id: number): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc.record({ kind: fc.constant('singleResource'), id: fc.constant(id), type: fc.constantFrom('STRING', 'CORELINK'), value: anyString }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('OPAQUE'),
      value: fc.oneof(
        fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
        anyString,
      ),
    }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('INTEGER'),
      value: fc.bigInt(-INT64 - 2n, INT64 + 1n).map(String),
    }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('UNSIGNED_INTEGER'),
      value: fc.bigInt(-1n, 2n ** 64n).map(String),
    }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('FLOAT'),
      value: fc.oneof(fc.double(), fc.double().map(String)),
    }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('BOOLEAN'),
      value: fc.oneof(fc.boolean(), anyString),
    }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('TIME'),
      value: fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), anyString),
    }),
    fc.record({
      kind: fc.constant('singleResource'),
      id: fc.constant(id),
      type: fc.constant('OBJLNK'),
      value: fc.oneof(fc.constant('3303:0'), anyString),
    }),
    fc.record({
      kind: fc.constant('multiResource'),
      id: fc.constant(id),
      type: fc.constant('STRING'),
      values: fc.dictionary(fc.integer({ min: 0, max: 65535 }).map(String), anyString, { maxKeys: 3 }),
    }),
  );
/** Any object id but 10240 (registration events go to another measurement). */
const objectId = fc.oneof(
  fc.constantFrom(3, 3303, 40000),
  fc.integer({ min: 0, max: 65535 }).filter((o) => o !== 10240),
);
const resourceId = fc.oneof(fc.constantFrom(0, 5700), fc.integer({ min: 0, max: 65535 }));

type Post = { route: 'single' | 'composite'; body: string };
const single: fc.Arbitrary<Post> = fc
  .record({ ep: endpointName, obj_id: objectId, inst_id: fc.integer({ min: 0, max: 65535 }), val: resourceId.chain(resource) })
  .map((b) => ({ route: 'single', body: JSON.stringify(b) }));
const composite: fc.Arbitrary<Post> = fc
  .record({
    ep: endpointName,
    val: fc.array(
      fc
        .tuple(objectId, fc.integer({ min: 0, max: 65535 }), resourceId)
        .chain(([o, i, r]) => resource(r).map((node) => [`/${o}/${i}/${r}`, node] as const)),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map((b) => ({ route: 'composite', body: JSON.stringify({ ep: b.ep, val: Object.fromEntries(b.val) }) }));
/** Not even a post: any JSON, or JSON with a lone surrogate escape. */
const garbage: fc.Arbitrary<Post> = fc
  .tuple(fc.constantFrom('single' as const, 'composite' as const), fc.oneof(fc.json(), fc.string()))
  .map(([route, body]) => ({ route, body }));

/** What a previous version left in the spool: good points, a line InfluxDB answers unreadably, random bytes. */
const SEEDED = 50;
const BAD_LINE = 'seed,ep=bad\\ v="\u0001" 1700000000000000999';
async function seedSpool(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'influx-spool');
  await mkdir(dir, { recursive: true });
  const good = Array.from({ length: SEEDED }, (_, i) => `seed v=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`);
  await writeFile(path.join(dir, '000000000001.lp'), `${[...good.slice(0, 20), BAD_LINE, ...good.slice(20)].join('\n')}\n`);
  await writeFile(path.join(dir, '000000000002.lp'), Buffer.concat([randomBytes(3000), Buffer.from('\n')]));
}

describe('hostile values against the real daemon and a real influxd', () => {
  let influxd: Influxd;
  let daemon: DaemonProcess;
  let dataDir: string;
  before(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-hostile-influx-'));
    await seedSpool(dataDir);
    daemon = await startDaemon({
      dataDir,
      config: { influx: { url: influxd.url, database: DB, connectIntervalMs: 200, flushIntervalMs: 100, batchSize: 500 } },
    });
  });
  after(async () => {
    await daemon?.cleanup();
    await influxd?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('replays what an older version spooled, setting aside the line InfluxDB refuses unreadably', async () => {
    const deadline = Date.now() + 15_000;
    let seeded = 0;
    while (seeded < SEEDED && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const r = await influxd.query('SELECT count(v) FROM seed', DB);
      seeded = Number(r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
    }
    assert.equal(seeded, SEEDED, 'every good spooled point landed');
    const rejected = await readFile(path.join(dataDir, 'influx-spool', 'rejected.lp'), 'utf8');
    assert.ok(rejected.includes(BAD_LINE), 'the bad line is kept aside');
  });

  it('never answers 5xx, writes every accepted value exactly, and /health keeps InfluxDB ok', async () => {
    let accepted = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: single }, { weight: 3, arbitrary: composite }, { weight: 1, arbitrary: garbage }),
        async (post) => {
          const res = await fetch(`${daemon.url}/leshan_api/resource/${post.route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: post.body,
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          assert.ok(res.status < 500, `${res.status} ${text} for ${post.body}`);
          if (res.status === 201) accepted += (JSON.parse(text) as { accepted: number }).accepted;
          else assert.equal(res.status, 400, text);
        },
      ),
      { numRuns: 1500 },
    );
    assert.ok(accepted > 200, `enough values were accepted to mean something (${accepted}; statuses ${JSON.stringify([...statuses])})`);

    // every accepted value is one point (each has its own timestamp)
    let landed: number;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await influxd.query('SELECT count(*) FROM lwm2m', DB);
      const row = (r.results[0]?.series?.[0]?.values[0] ?? []) as number[];
      landed = row.slice(1).reduce((n, c) => n + Number(c ?? 0), 0);
      if (landed >= accepted || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(landed, accepted, 'every accepted value landed, once');

    const health = await fetch(`${daemon.url}/health`);
    const body = (await health.json()) as { checks: { influx: { ok: boolean; spooled: number; state: string } } };
    assert.equal(body.checks.influx.ok, true, JSON.stringify(body.checks.influx));
    assert.equal(body.checks.influx.spooled, 0);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    const dropped = [...metrics.matchAll(/^lwm2m_backend_influx_points_dropped_total\{reason="([^"]+)"\} (\d+)$/gm)].filter(
      (m) => m[2] !== '0',
    );
    // only what the old spool held: its bad line, and lines of random bytes InfluxDB refused
    assert.ok(
      dropped.every((m) => m[1] === 'invalid' || m[1] === 'unreadable_response'),
      JSON.stringify(dropped),
    );
  });

  it('writes any STRING exactly as posted (lone surrogates as U+FFFD), whatever the endpoint', async () => {
    const sent = new Map<string, string>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyString, async (value) => {
        const ep = `str-${n++}`;
        const res = await fetch(`${daemon.url}/leshan_api/resource/single`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ep, obj_id: 3, val: { kind: 'singleResource', id: 1, type: 'STRING', value } }),
        });
        assert.equal(res.status, 201, await res.text());
        sent.set(ep, Buffer.from(value, 'utf8').toString('utf8'));
      }),
      { numRuns: 150 },
    );
    const deadline = Date.now() + 15_000;
    let got = new Map<string, string>();
    while (got.size < sent.size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const r = await influxd.query(`SELECT "string", "ep" FROM lwm2m WHERE ep =~ /^str-/`, DB);
      got = new Map(((r.results[0]?.series?.[0]?.values ?? []) as [number, string, string][]).map(([, s, ep]) => [ep, s]));
    }
    assert.deepEqual(got, sent);
  });
});

/**
 * Ingest benchmark (issue 3), against a real influxd:
 * 1. single-resource posts/s through the daemon with 50 connections, p99 latency, and the ratio to a bare
 *    node:http server that only parses the same JSON (goal >= 0.5);
 * 2. composite posts (object 3, 15 resources) in points/s end to end (until InfluxDB has them all), and the
 *    ratio to writing the same line protocol straight to the same influxd (goal >= 0.5).
 * After each run the number of points in InfluxDB is checked against the number accepted.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { startInfluxd, type Influxd } from '../tools/influxd.js';
import { startDaemon } from '../tools/daemon.js';
import { freePort } from '../tools/ports.js';
import { dataLine, endpointTag } from '../src/ingest/points.js';
import { NanoClock } from '../src/ingest/nanoClock.js';
import { parseCompositePost } from '../src/ingest/parsePost.js';
import { figure, fmt, heading } from './support/report.js';

/** Requests per run; fixed counts (not durations) so that every accepted request is counted. */
const SINGLE_POSTS = Number(process.env.BENCH_SINGLE_POSTS ?? 60_000);
const COMPOSITE_POSTS = Number(process.env.BENCH_COMPOSITE_POSTS ?? 15_000);
const CONNECTIONS = 50;

const singleBody = JSON.stringify({
  ep: 'bench-dev',
  obj_id: 3303,
  val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '24.899181214836236' },
});

function deviceObject(): unknown {
  const s = (id: number, type: string, value: unknown) => ({ kind: 'singleResource', id, type, value });
  return {
    kind: 'obj',
    id: 3,
    instances: [
      {
        kind: 'instance',
        id: 0,
        resources: [
          s(0, 'STRING', 'Zephyr'),
          s(1, 'STRING', 'qemu_x86'),
          s(2, 'STRING', 'SN-0001'),
          s(3, 'STRING', '3.7.0'),
          s(9, 'INTEGER', '87'),
          s(10, 'INTEGER', '1024'),
          s(11, 'INTEGER', '0'),
          s(13, 'TIME', 1732550000000),
          s(14, 'STRING', '+01:00'),
          s(15, 'STRING', 'Europe/Berlin'),
          s(16, 'STRING', 'U'),
          s(17, 'STRING', 'qemu'),
          s(18, 'STRING', '1.0'),
          s(19, 'STRING', '3.7.0'),
          s(21, 'INTEGER', '4096'),
        ],
      },
    ],
  };
}
const compositeBody = JSON.stringify({ ep: 'bench-dev', val: { '/3': deviceObject() } });
const POINTS_PER_COMPOSITE = 15;

/** An autocannon run and its wall time measured here (autocannon's `duration` counts whole seconds only). */
type Run = autocannon.Result & { seconds: number };

async function load(url: string, path: string, body: string, amount: number): Promise<Run> {
  const t0 = performance.now();
  const result = await autocannon({
    url: url + path,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    amount,
  });
  return Object.assign(result, { seconds: (performance.now() - t0) / 1000 });
}

/** Requests per second over the whole run. */
const rps = (r: Run): number => (r['2xx'] + r.non2xx) / r.seconds;

async function count(influxd: Influxd, db: string, measurement: string, field: string): Promise<number> {
  const rows = await influxd.queryCsv(`SELECT count("${field}") FROM ${measurement}`, db);
  return rows.reduce((n, r) => n + Number(r.count ?? 0), 0);
}

async function waitForCount(influxd: Influxd, db: string, want: number, fields: string[]): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    let have = 0;
    for (const f of fields) have += await count(influxd, db, 'lwm2m', f);
    if (have >= want || Date.now() > deadline) return have;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function bareServerRps(): Promise<Run> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/support/bareServer.ts', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
  try {
    return await load(`http://127.0.0.1:${port}`, '/', singleBody, SINGLE_POSTS);
  } finally {
    proc.kill('SIGTERM');
  }
}

/** Writes `points` lines shaped like the daemon's to influxd directly, batches of 5000, 2 requests at once. */
async function directWrite(influxd: Influxd, db: string, points: number): Promise<number> {
  await influxd.query(`CREATE DATABASE ${db}`);
  const post = parseCompositePost(JSON.parse(compositeBody));
  const clock = new NanoClock();
  const epTag = endpointTag('direct');
  const lines: string[] = [];
  for (let i = 0; lines.length < points; i++) for (const v of post.values) lines.push(dataLine(epTag, v, clock.next()));
  const batches: string[] = [];
  for (let i = 0; i < lines.length; i += 5000) batches.push(lines.slice(i, i + 5000).join('\n'));
  const pool = new Pool(influxd.url, { connections: 2 });
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const res = await pool.request({ method: 'POST', path: `/write?db=${db}`, body: batches[next++]! });
      await res.body.dump();
      if (res.statusCode !== 204) throw new Error(`direct write: ${res.statusCode}`);
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return lines.length / seconds;
}

export async function ingestBench(): Promise<void> {
  const influxd = await startInfluxd();
  try {
    heading(`Ingest (${CONNECTIONS} connections, real influxd 1.6)`);
    const bare = await bareServerRps();

    const single = await startDaemon({ compiled: true, config: { influx: { url: influxd.url, database: 'bench_single' } } });
    await new Promise((r) => setTimeout(r, 300));
    const daemon = await load(single.url, '/leshan_api/resource/single', singleBody, SINGLE_POSTS);
    const accepted = daemon['2xx'];
    const written = await waitForCount(influxd, 'bench_single', accepted, ['float']);
    await single.signal('SIGTERM');
    await single.cleanup();

    figure('bare node:http, parse only: requests/s', fmt(rps(bare)));
    figure('daemon, single-resource posts: requests/s', fmt(rps(daemon)));
    figure('daemon, single-resource posts: p99 latency', `${daemon.latency.p99} ms`);
    figure('ratio daemon / bare node:http (goal >= 0.5)', fmt(rps(daemon) / rps(bare), 2));
    figure('points accepted / in InfluxDB', `${fmt(accepted)} / ${fmt(written)}${accepted === written ? ' (equal)' : ' (MISMATCH)'}`);
    if (daemon.non2xx > 0 || daemon.errors > 0) figure('non-2xx answers / errors', `${daemon.non2xx} / ${daemon.errors}`);

    const comp = await startDaemon({ compiled: true, config: { influx: { url: influxd.url, database: 'bench_composite' } } });
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const cres = await load(comp.url, '/leshan_api/resource/composite', compositeBody, COMPOSITE_POSTS);
    const cPoints = cres['2xx'] * POINTS_PER_COMPOSITE;
    const cWritten = await waitForCount(influxd, 'bench_composite', cPoints, ['int', 'string']);
    const endToEnd = cWritten / ((performance.now() - t0) / 1000);
    await comp.signal('SIGTERM');
    await comp.cleanup();
    const direct = await directWrite(influxd, 'bench_direct', cPoints);

    figure('daemon, composite posts (object 3, 15 resources): posts/s', fmt(rps(cres)));
    figure('daemon, composite: points/s accepted', fmt(cPoints / cres.seconds));
    figure('daemon, composite: points/s end to end (until in InfluxDB)', fmt(endToEnd));
    figure('composite: p99 latency', `${cres.latency.p99} ms`);
    figure('same lines written straight to influxd: points/s', fmt(direct));
    figure('ratio daemon end to end / direct write (goal >= 0.5)', fmt(endToEnd / direct, 2));
    figure('points accepted / in InfluxDB', `${fmt(cPoints)} / ${fmt(cWritten)}${cPoints === cWritten ? ' (equal)' : ' (MISMATCH)'}`);
  } finally {
    await influxd.destroy();
  }
}

/**
 * Operations benchmarks (issue 4), the daemon as a real process (compiled), Leshan as the test double:
 * - durable create rate: 1 000 concurrent POSTs against a store already holding 10 000 finished
 *   operations, each 201 sent only after fsync (goal >= 1 000/s);
 * - wake storm: N endpoints (default 10 000) with one queued write each wake within 10 s, Leshan
 *   answers each after 200 ms: total time against the ideal N x latency / concurrency limit (goal within
 *   1.25x), every operation CONFIRMED inside its awake window;
 * (The idle delay: bench/idle.bench.ts; RSS: bench/memory.bench.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { startLeshanDouble, type LeshanDouble } from '../tools/leshanDouble.js';
import { startDaemon, type DaemonProcess } from '../tools/daemon.js';
import { startInfluxd } from '../tools/influxd.js';
import { OperationStore } from '../src/operations/store.js';
import { naiveCreateRate } from './store.bench.js';
import { figure, fmt, heading } from './support/report.js';

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10_000);
const LATENCY_MS = 200;
const MAX_CONCURRENT = 32;
const AWAKE_MS = 93_000;

async function json(pool: Pool, method: 'GET' | 'POST', p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await pool.request({
    method,
    path: p,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

/** Runs `count` calls of `fn` with `concurrency` at once. */
async function parallel(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

const registration = (ep: string, id: number) => ({
  ep,
  obj_id: 10240,
  val: { kind: 'singleResource', id, type: 'TIME', value: 1732550000000 },
});

/** A store file holding `n` finished operations over `endpoints` endpoints. */
async function prefill(dataDir: string, n: number, endpoints: number): Promise<void> {
  const store = new OperationStore({ file: path.join(dataDir, 'operations.json'), maxAttempts: 3, pruneAfterMs: 365 * 24 * 3600_000 });
  await store.open();
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(
      store
        .create({ ep: `old-${i % endpoints}`, kind: 'write', path: '/3/0/14', value: '+01:00', type: 'STRING' })
        .then(({ operation }) => {
          store.markSending(operation.id);
          return store.settle(operation.id, { status: 'CONFIRMED' });
        }),
    );
    if (batch.length >= 2000) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  await store.close();
}

async function createRate(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-bench-create-'));
  await prefill(dataDir, 10_000, 100);
  const d = await startDaemon({
    compiled: true,
    dataDir,
    config: { leshan: { url: 'http://127.0.0.1:9' }, influx: { url: 'http://127.0.0.1:9' } },
  });
  const pool = new Pool(d.url, { connections: 100 });
  try {
    // warm-up: connections opened, code paths compiled (the figure is the steady state, not a cold start)
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          json(pool, 'POST', `/api/endpoints/warm-${i % 50}/operations`, { kind: 'read', path: '/3/0/0' }),
        ),
      );
    }
    const t0 = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        json(pool, 'POST', `/api/endpoints/new-${i % 50}/operations`, { kind: 'write', path: '/5/0/1', value: `https://fw/${i}.bin` }).then(
          (r) => r.status,
        ),
      ),
    );
    const s = (performance.now() - t0) / 1000;
    const created = statuses.filter((x) => x === 201).length;
    figure('durable creates: 1 000 concurrent POSTs over 10 000 stored, ops/s (goal >= 1 000)', fmt(created / s));
    if (created !== 1000) figure('  non-201 answers', String(1000 - created));
    const naive = await naiveCreateRate(dataDir);
    figure('naive lowdb, one db.write() per operation, same run: ops/s', fmt(naive));
    figure('ratio daemon POSTs / naive', `${fmt(created / s / naive, 1)}x`);
  } finally {
    await pool.close();
    await d.signal('SIGTERM');
    await d.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function wakeStorm(leshan: LeshanDouble, d: DaemonProcess, pool: Pool, idleConfirmed: number): Promise<void> {
  const eps = Array.from({ length: ENDPOINTS }, (_, i) => `storm-${String(i).padStart(5, '0')}`);
  for (const ep of eps) leshan.register({ endpoint: ep, queueMode: true });
  await parallel(ENDPOINTS, 50, async (i) => {
    const r = await json(pool, 'POST', `/api/endpoints/${eps[i]}/operations`, { kind: 'write', path: '/3/0/14', value: '+01:00' });
    if (r.status !== 201) throw new Error(`create answered ${r.status}`);
  });
  leshan.setLatency('*', LATENCY_MS);
  leshan.clearRequests();
  const wokeAt = new Map<string, number>();
  const t0 = Date.now();
  // all endpoints wake within 10 s, evenly
  await parallel(ENDPOINTS, 50, async (i) => {
    const due = t0 + (i * 10_000) / ENDPOINTS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    leshan.update(eps[i]!);
    wokeAt.set(eps[i]!, Date.now());
    const r = await json(pool, 'POST', '/leshan_api/resource/single', registration(eps[i]!, 2));
    if (r.status !== 201) throw new Error(`update answered ${r.status}`);
  });
  let confirmed: number;
  for (;;) {
    const page = await json(pool, 'GET', `/api/operations?status=CONFIRMED&limit=1`);
    const metrics = await (await pool.request({ method: 'GET', path: '/metrics' })).body.text();
    confirmed = Number(/lwm2m_backend_operations\{status="CONFIRMED"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    void page;
    if (confirmed >= ENDPOINTS + idleConfirmed || Date.now() - t0 > 300_000) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const total = (Date.now() - t0) / 1000;
  const ideal = (ENDPOINTS * LATENCY_MS) / MAX_CONCURRENT / 1000;
  const writes = leshan.requests.filter((r) => r.op === 'write' && r.status === 200 && wokeAt.has(r.ep!));
  let outside = 0;
  for (const w of writes) if ((w.deliveredAt ?? w.at) - wokeAt.get(w.ep!)! > AWAKE_MS) outside++;
  figure(`wake storm: ${fmt(ENDPOINTS)} endpoints, ${LATENCY_MS} ms answers, limit ${MAX_CONCURRENT}: total`, `${fmt(total, 1)} s`);
  figure('wake storm: ideal N x latency / limit', `${fmt(ideal, 1)} s`);
  figure('wake storm: ratio total / ideal (goal <= 1.25)', fmt(total / ideal, 2));
  figure('wake storm: writes confirmed / of them outside the awake window', `${fmt(writes.length)} of ${fmt(ENDPOINTS)} / ${outside}`);
}

export async function operationsBench(): Promise<void> {
  heading('Operations (daemon process, Leshan test double)');
  await createRate();
  const leshan = await startLeshanDouble({ awakeMs: AWAKE_MS });
  const influxd = await startInfluxd();
  const d = await startDaemon({
    compiled: true,
    config: { leshan: { url: leshan.url, maxConcurrent: MAX_CONCURRENT }, endpoints: { awakeMs: AWAKE_MS }, influx: { url: influxd.url } },
  });
  const pool = new Pool(d.url, { connections: 50 });
  try {
    await wakeStorm(leshan, d, pool, 0);
  } finally {
    await pool.close();
    await d.signal('SIGTERM');
    await d.cleanup();
    await leshan.close();
    await influxd.destroy();
  }
}

/**
 * Memory (issue 10): the daemon's RSS with 10 000 endpoints, 2 000 of them awake, and 100 000 stored
 * operations (goal <= 150 MiB), the daemon as a real process (compiled) with the V8 flags of the systemd
 * unit. The store is pre-filled as a snapshot file; 10 000 endpoints register, 2 000 of them then say they
 * are awake. Also the in-process breakdown (bench/support/memoryProbe.ts): heap per stored operation against
 * its JSON size, heap per endpoint.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { startDaemon } from '../tools/daemon.js';
import { memoryProbe } from './support/memoryProbe.js';
import { figure, fmt, heading } from './support/report.js';

const ENDPOINTS = 10_000;
const AWAKE = 2_000;
const OPERATIONS = 100_000;
const AWAKE_MS = 93_000;
const GOAL_MIB = 150;
/** RSS samples, every 500 ms, after the registrations. */
const SETTLE_SAMPLES = 60;

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const hwmOf = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
/** The memory settings the systemd unit runs the daemon with (NODE_OPTIONS, MALLOC_ARENA_MAX): measured as deployed. */
export function unitEnv(): Record<string, string> {
  const unit = readFileSync(new URL('../systemd/lwm2m-backend.service', import.meta.url), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?(NODE_OPTIONS|MALLOC_ARENA_MAX)=([^"\n]*)"?$/gm)) env[m[1]!] = m[2]!;
  return env;
}
const epName = (i: number) => `urn:imei:${350000000000000 + i}`;

/** A snapshot file of `n` finished operations over the endpoints, in the layout the store writes. */
export async function storeFileWith(dataDir: string, n: number, endpoints: number): Promise<string> {
  const file = path.join(dataDir, 'operations.json');
  const t0 = Date.parse('2026-11-25T17:00:00.000Z');
  const iso = (t: number) => new Date(t).toISOString();
  const lines: string[] = [];
  // as a real store has them: distinct times (created, sent 0.5 s later, confirmed 0.7 s later), distinct values
  for (let i = 0; i < n; i++) {
    const created = t0 + i * 1000;
    lines.push(
      JSON.stringify({
        id: String(i + 1),
        ep: epName(i % endpoints),
        kind: 'write',
        path: '/3/0/14',
        value: `+${String(i % 24).padStart(2, '0')}:00 #${i}`,
        type: 'STRING',
        status: 'CONFIRMED',
        attempts: 1,
        createdAt: iso(created),
        updatedAt: iso(created + 700),
        lastAttemptAt: iso(created + 500),
        result: { status: 'CHANGED(204)', code: 204 },
      }),
    );
  }
  await writeFile(file, `{"version":1,"nextId":${n + 1},"seq":0,"operations":[\n${lines.join(',\n')}\n]}\n`);
  return file;
}

/** An object 10240 post: resource 1 a registration, resource 3 the device awake (queue mode). */
const registration = (ep: string, id: number) => ({
  ep,
  obj_id: 10240,
  val: { kind: 'singleResource', id, type: 'TIME', value: 1732550000000 },
});

async function post10240(pool: Pool, from: number, to: number, id: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < to) {
        const res = await pool.request({
          method: 'POST',
          path: '/leshan_api/resource/single',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(registration(epName(next++), id)),
        });
        await res.body.dump();
      }
    }),
  );
}

export async function memoryBench(): Promise<void> {
  heading(`Memory: ${fmt(ENDPOINTS)} endpoints (${fmt(AWAKE)} awake), ${fmt(OPERATIONS)} stored operations`);
  const work = await mkdtemp(path.join(tmpdir(), 'lwm2m-bench-memory-'));
  try {
    const dataDir = path.join(work, 'data');
    await mkdir(dataDir, { recursive: true });
    const file = await storeFileWith(dataDir, OPERATIONS, ENDPOINTS);
    const fileBytes = (await stat(file)).size;

    const probe = await memoryProbe(file, ENDPOINTS, AWAKE, fileBytes);
    figure('heap per stored operation / its JSON in the file (B)', `${fmt(probe.storeHeap / OPERATIONS)} / ${fmt(fileBytes / OPERATIONS)}`);
    figure(`heap per endpoint (${fmt(AWAKE)} of ${fmt(ENDPOINTS)} awake) (B)`, fmt(probe.endpointsHeap / ENDPOINTS));

    const d = await startDaemon({
      compiled: true,
      dataDir,
      config: { leshan: { url: 'http://127.0.0.1:9' }, influx: { url: 'http://127.0.0.1:9' }, endpoints: { awakeMs: AWAKE_MS } },
      env: unitEnv(),
    });
    const pool = new Pool(d.url, { connections: 20 });
    try {
      const pid = d.proc.pid!;
      await post10240(pool, 0, ENDPOINTS, 1);
      await post10240(pool, ENDPOINTS - AWAKE, ENDPOINTS, 3);
      // the steady state: the garbage of the registrations collected. V8's memory reducer gives the pages
      // back once the daemon has been idle for a while (about 10 s after the burst on the 2-core VM): 30 s
      const samples: number[] = [];
      for (let i = 0; i < SETTLE_SAMPLES; i++) {
        await new Promise((r) => setTimeout(r, 500));
        samples.push(rssOf(pid));
      }
      const metrics = await (await pool.request({ method: 'GET', path: '/metrics' })).body.text();
      const heapUsed = Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN);
      const states = [...metrics.matchAll(/^lwm2m_backend_endpoints\{state="(\w+)"\} (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`).join(', ');
      const rss = Math.max(...samples.slice(-10));
      figure(
        `daemon: RSS over the ${(SETTLE_SAMPLES * 500) / 1000} s after the registrations: max / in its last 5 s (MiB)`,
        `${fmt(Math.max(...samples) / 1048576, 1)} / ${fmt(rss / 1048576, 1)}`,
      );
      figure(
        'daemon: memory settings (from the systemd unit)',
        Object.entries(unitEnv())
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '(none)',
      );
      figure('daemon: endpoints by state', states);
      figure('daemon: V8 heap used (MiB)', fmt(heapUsed / 1048576, 1));
      figure('daemon: peak RSS since start (VmHWM, MiB)', fmt(hwmOf(pid) / 1048576, 1));
      figure(`daemon RSS (goal <= ${GOAL_MIB} MiB)`, `${fmt(rss / 1048576, 1)} MiB  (${rss <= GOAL_MIB * 1048576 ? 'met' : 'NOT met'})`);
    } finally {
      await pool.close();
      await d.signal('SIGTERM');
      await d.cleanup();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

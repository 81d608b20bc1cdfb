/**
 * Operation store benchmark (durable creates). Against a store already holding 10 000 finished operations:
 * 1. 1 000 concurrent creates, each acknowledged only once fsync'd (goal >= 1 000/s), and the same through
 *    50 closed-loop clients (each waits for its ack before the next create, like HTTP clients);
 * 2. the naive baseline in the same run: plain lowdb (`Low` + `JSONFile`), one `db.write()` per created
 *    operation, sequential (note: JSONFile does not even fsync), and the ratio;
 * 3. the file size and the time of one full write with 100 000 stored operations, and what the
 *    serialisation alone costs: cached blocks vs a full `JSON.stringify`.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JSONFile } from 'lowdb/node';
import { Low } from 'lowdb';
import type { Operation } from '../src/operations/operation.js';
import { OperationStore } from '../src/operations/store.js';
import { StoreCodec } from '../src/operations/store/storeFile.js';
import { figure, fmt, heading } from './support/report.js';

const PREFILL = 10_000;
const CREATES = 1_000;
const BASELINE_CREATES = Number(process.env.BENCH_STORE_BASELINE ?? 200);
const LARGE = 100_000;

const at = new Date('2026-11-25T17:00:00.000Z').toISOString();
function finished(n: number): Operation[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    ep: `dev-${i % 500}`,
    kind: 'write',
    path: '/5/0/1',
    value: `https://example.com/fw/${i}.bin`,
    type: 'STRING',
    status: 'CONFIRMED',
    attempts: 1,
    createdAt: at,
    updatedAt: at,
    lastAttemptAt: at,
    result: { status: 'CHANGED(204)', code: 204 },
  }));
}
const input = (i: number) => ({
  ep: `dev-${i % 50}`,
  kind: 'write' as const,
  path: '/5/0/1',
  value: `https://example.com/fw/new-${i}.bin`,
  type: 'STRING' as const,
});

async function prefilled(dir: string, name: string, n: number): Promise<string> {
  const file = path.join(dir, name);
  const operations = finished(n);
  await writeFile(file, JSON.stringify({ version: 1, nextId: n + 1, operations }));
  return file;
}

async function openStore(file: string): Promise<OperationStore> {
  const store = new OperationStore({ file, maxAttempts: 3, pruneAfterMs: 86_400_000 });
  await store.open();
  await store.create(input(-1)); // the first write after open stringifies every operation once
  return store;
}

function time(fn: () => unknown, times = 1): number {
  const t = performance.now();
  for (let i = 0; i < times; i++) fn();
  return (performance.now() - t) / times;
}

/**
 * The naive baseline: plain lowdb (`Low` + `JSONFile`) over a store of PREFILL finished operations, one
 * `db.write()` per created operation, sequential. Operations per second.
 */
export async function naiveCreateRate(dir: string): Promise<number> {
  const naiveFile = await prefilled(dir, 'naive.json', PREFILL);
  const db = new Low<{ operations: Operation[] }>(new JSONFile(naiveFile), { operations: [] });
  await db.read();
  const t = performance.now();
  for (let i = 0; i < BASELINE_CREATES; i++) {
    const id = String(PREFILL + 1 + i);
    db.data.operations.push({ id, ...input(i), status: 'QUEUED', attempts: 0, createdAt: at, updatedAt: at });
    await db.write();
  }
  return (BASELINE_CREATES / (performance.now() - t)) * 1000;
}

export async function storeBench(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-store-bench-'));
  try {
    heading(`Operation store: durable creates (store pre-filled with ${fmt(PREFILL)} finished operations)`);
    let store = await openStore(await prefilled(dir, 'burst.json', PREFILL));
    let writes = store.writeCount;
    let t = performance.now();
    await Promise.all(Array.from({ length: CREATES }, (_, i) => store.create(input(i))));
    let ms = performance.now() - t;
    const rate = (CREATES / ms) * 1000;
    figure(`${fmt(CREATES)} concurrent creates, fsync'd (ops/s)`, `${fmt(rate)}  (${fmt(ms, 1)} ms, ${store.writeCount - writes} writes)`);
    await store.close();

    store = await openStore(await prefilled(dir, 'clients.json', PREFILL));
    writes = store.writeCount;
    t = performance.now();
    await Promise.all(
      Array.from({ length: 50 }, async (_, c) => {
        for (let i = c; i < CREATES; i += 50) await store.create(input(i));
      }),
    );
    ms = performance.now() - t;
    figure(
      `${fmt(CREATES)} creates from 50 closed-loop clients (ops/s)`,
      `${fmt((CREATES / ms) * 1000)}  (${store.writeCount - writes} writes)`,
    );
    writes = store.writeCount;
    t = performance.now();
    for (let i = 0; i < 100; i++) await store.create(input(i));
    ms = performance.now() - t;
    figure('sequential creates, one at a time (ops/s; latency of one ack)', `${fmt((100 / ms) * 1000)}  (${fmt(ms / 100, 2)} ms each)`);
    await store.close();

    const baseline = await naiveCreateRate(dir);
    figure(`naive lowdb, one db.write() per create, no fsync (ops/s, ${BASELINE_CREATES} ops)`, fmt(baseline));
    figure('ratio (goal: >= 1 000/s, versus ~80/s naive)', `${fmt(rate / baseline, 1)}x`);

    heading(`Operation store: ${fmt(LARGE)} stored operations`);
    const largeFile = await prefilled(dir, 'large.json', LARGE);
    t = performance.now();
    store = new OperationStore({ file: largeFile, maxAttempts: 3, pruneAfterMs: 86_400_000 });
    await store.open();
    figure('open a file in a foreign layout (plain JSON.stringify) (ms)', fmt(performance.now() - t, 1));
    await store.create(input(0));
    figure('  then its first write, every block encoded (ms)', fmt(store.lastWriteMs, 1));
    await store.close();
    t = performance.now();
    store = new OperationStore({ file: largeFile, maxAttempts: 3, pruneAfterMs: 86_400_000 });
    await store.open();
    figure('open the file the store wrote (read line by line) (ms)', fmt(performance.now() - t, 1));
    await store.create(input(0));
    figure('  then its first write, blocks reused from the file read (ms)', fmt(store.lastWriteMs, 1));
    const times: number[] = [];
    for (let i = 0; i < 11; i++) {
      await store.create(input(i));
      times.push(store.lastWriteMs);
    }
    times.sort((a, b) => a - b);
    figure('one full write: encode + writev + fsync + rename + dir fsync (ms, median of 11)', fmt(times[5]!, 1));
    figure('file size (MB)', fmt((await stat(largeFile)).size / 1e6, 1));
    // Serialisation alone, for the same 100 000 operations: the cached blocks after one operation changed,
    // the first encoding of every block, and what lowdb's JSONFile would do (a full JSON.stringify).
    const operations = store.list({ limit: LARGE + 20 }).items;
    const data = { version: 1 as const, nextId: LARGE + 12, operations };
    const codec = new StoreCodec();
    figure(
      'encode, cold: every block built (ms)',
      fmt(
        time(() => codec.encode(data)),
        1,
      ),
    );
    figure(
      'encode, cached blocks, one operation changed (ms)',
      fmt(
        time(() => {
          operations[operations.length >> 1] = { ...operations[operations.length >> 1]! };
          codec.encode(data);
        }, 20),
        2,
      ),
    );
    figure(
      'JSON.stringify(data) (ms)',
      fmt(
        time(() => JSON.stringify(data), 5),
        1,
      ),
    );
    figure(
      "JSON.stringify(data, null, 2), as lowdb's JSONFile does (ms)",
      fmt(
        time(() => JSON.stringify(data, null, 2), 5),
        1,
      ),
    );
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

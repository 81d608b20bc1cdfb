import { afterEach, beforeEach } from 'node:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LogSink } from '../../../src/log/logger.js';
import { OperationStore, type OperationStoreOptions } from '../../../src/operations/store.js';
import type { Operation } from '../../../src/operations/operation.js';
import { listSegments, readSegment } from '../../../src/operations/store/journal.js';

export const T0 = Date.parse('2026-11-25T17:00:00.000Z');

/** A clock the test moves by hand. */
export function manualClock(start = T0): { now: () => number; advance(ms: number): void; set(t: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (v) => void (t = v) };
}

/** A log that keeps what it is given. */
export function captureLog(): LogSink & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export async function tempDir(): Promise<{ dir: string; file: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-store-'));
  return { dir, file: path.join(dir, 'operations.json'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * For a describe block: a temp dir for each test (`file` in it), and after each test the store it left in
 * `store` closed and the dir removed.
 */
export function storeEachTest(): { dir: string; file: string; store: OperationStore | undefined } {
  const t: { dir: string; file: string; store: OperationStore | undefined; cleanup?: () => Promise<void> } = {
    dir: '',
    file: '',
    store: undefined,
  };
  beforeEach(async () => {
    Object.assign(t, await tempDir());
  });
  afterEach(async () => {
    await t.store?.close();
    t.store = undefined;
    await t.cleanup?.();
  });
  return t;
}

export async function openStore(file: string, options: Partial<OperationStoreOptions> = {}): Promise<OperationStore> {
  const store = new OperationStore({ file, maxAttempts: 3, pruneAfterMs: 60_000, ...options });
  await store.open();
  return store;
}

/** What is on disk right now: the snapshot file, parsed, with the journal's records after its seq applied. */
export async function onDisk(file: string): Promise<{ nextId: number; operations: Operation[]; journalRecords: number }> {
  const snapshot = JSON.parse(await readFile(file, 'utf8')) as { nextId: number; seq?: number; operations: Operation[] };
  const byId = new Map(snapshot.operations.map((op) => [op.id, op]));
  let nextId = snapshot.nextId;
  let journalRecords = 0;
  for (const segment of await listSegments(file)) {
    await readSegment(segment.file, (json) => {
      const rec = JSON.parse(json) as { seq: number; type: string; put?: Operation; del?: string };
      journalRecords++;
      if (rec.seq <= (snapshot.seq ?? 0) || rec.type !== 'operation') return;
      if (rec.put) {
        byId.set(rec.put.id, rec.put);
        nextId = Math.max(nextId, Number(rec.put.id) + 1);
      } else if (rec.del !== undefined) byId.delete(rec.del);
    });
  }
  const operations = [...byId.values()].sort((a, b) => Number(a.id) - Number(b.id));
  return { nextId, operations, journalRecords };
}

export const write = (ep: string, n: number) => ({
  ep,
  kind: 'write' as const,
  path: '/5/0/1',
  value: `https://x/fw-${n}.bin`,
  type: 'STRING' as const,
});

/**
 * Where the heap goes with 100 000 stored operations and 10 000 endpoints (2 000 of them awake), in this
 * process: heap and RSS after each part is built, per item. `BENCH_HEAPSNAPSHOT=dir` also writes a heap
 * snapshot there (open it in Chrome DevTools: Memory, "Summary" by retained size).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { EndpointRegistry } from '../../src/endpoints/registry.js';
import { createLogger } from '../../src/log/logger.js';
import { OperationStore } from '../../src/operations/store.js';

export interface MemoryBreakdown {
  baseHeap: number;
  storeHeap: number;
  storeFileBytes: number;
  endpointsHeap: number;
  rss: number;
}

const gcNow = () => (globalThis as { gc?: () => void }).gc?.();
const heap = () => {
  gcNow();
  gcNow();
  return process.memoryUsage().heapUsed;
};

export async function memoryProbe(file: string, endpoints: number, awake: number, storeFileBytes: number): Promise<MemoryBreakdown> {
  const baseHeap = heap();
  const store = new OperationStore({ file, maxAttempts: 3, pruneAfterMs: 365 * 86_400_000 });
  await store.open();
  const afterStore = heap();
  const registry = new EndpointRegistry({
    awakeMs: 93_000,
    retryMs: 5_000,
    log: createLogger('silent'),
    hasQueued: () => false,
    deliverNext: async () => ({ result: 'idle', at: Date.now() }),
  });
  for (let i = 0; i < endpoints; i++) registry.registrationEvent(`urn:imei:${350000000000000 + i}`, 'registered');
  for (let i = awake; i < endpoints; i++) registry.registrationEvent(`urn:imei:${350000000000000 + i}`, 'deregistered');
  await new Promise((r) => setImmediate(r));
  const afterEndpoints = heap();
  if (process.env.BENCH_HEAPSNAPSHOT) {
    const out = path.join(process.env.BENCH_HEAPSNAPSHOT, `store-${Date.now()}.heapsnapshot`);
    v8.writeHeapSnapshot(out);
    await writeFile(`${out}.txt`, `store ${afterStore - baseHeap} endpoints ${afterEndpoints - afterStore}\n`);
  }
  const rss = process.memoryUsage().rss;
  registry.stop();
  await store.close();
  return { baseHeap, storeHeap: afterStore - baseHeap, storeFileBytes, endpointsHeap: afterEndpoints - afterStore, rss };
}

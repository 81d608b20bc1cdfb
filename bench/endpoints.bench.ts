/**
 * Heap per known endpoint (issue 4 goal: at most 4 KiB with 10 000 endpoints), measured in this process
 * with forced GCs (run with --expose-gc): endpoints that registered and went offline (dormant), and the
 * same endpoints all awake (running actors with their timers).
 */
import { EndpointRegistry } from '../src/endpoints/registry.js';
import { createLogger } from '../src/log/logger.js';
import { figure, fmt, heading } from './support/report.js';

const N = Number(process.env.BENCH_ENDPOINTS ?? 10_000);

export async function endpointsBench(): Promise<void> {
  heading(`Endpoint registry (${fmt(N)} endpoints, in process)`);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    figure('heap per endpoint', 'needs node --expose-gc (npm run bench sets it)');
    return;
  }
  const registry = new EndpointRegistry({
    awakeMs: 93_000,
    retryMs: 5_000,
    log: createLogger('silent'),
    hasQueued: () => false,
    deliverNext: async () => ({ result: 'idle', at: Date.now() }),
  });
  const tick = () => new Promise((r) => setImmediate(r));
  gc();
  const base = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) registry.registrationEvent(`urn:imei:${350000000000000 + i}`, 'registered');
  const created = performance.now() - t0;
  await tick();
  gc();
  const awake = (process.memoryUsage().heapUsed - base) / N;
  for (let i = 0; i < N; i++) registry.registrationEvent(`urn:imei:${350000000000000 + i}`, 'deregistered');
  await tick();
  gc();
  const dormant = (process.memoryUsage().heapUsed - base) / N;
  registry.stop();
  figure('create + register: per endpoint', `${fmt((created * 1000) / N, 1)} us`);
  figure('heap per known endpoint, offline (goal <= 4 KiB)', `${fmt(dormant)} B`);
  figure('heap per endpoint while awake (running actor + timer)', `${fmt(awake)} B`);
}

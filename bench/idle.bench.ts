/**
 * The idle delay (issue 10): an endpoint's update POST to the Leshan request of its queued write, on an
 * otherwise idle daemon, p50 / p99 / max over >= 2 000 samples (goal p99 < 5 ms). Measured by
 * bench/support/idleDriver.ts in a fresh process; also prints the event-loop delay of the driver (its own
 * pauses would show in the figure) and of the daemon (monitorEventLoopDelay, as in /metrics).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { figure, fmt, heading } from './support/report.js';
import { EVENT_LOOP_SAMPLE_MS } from '../src/metrics/registry.js';

const SAMPLES = Number(process.env.BENCH_IDLE_SAMPLES ?? 2000);

interface DriverResult {
  delays: number[];
  floor: number[];
  driverLoop: { p50: number; p99: number; max: number };
  daemonLoop: { p50: number; p99: number; max: number };
}

export async function idleBench(): Promise<void> {
  heading(`Idle delay: update POST -> its Leshan request (${fmt(SAMPLES)} samples, daemon process, Leshan test double)`);
  const driver = fileURLToPath(new URL('./support/idleDriver.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', driver, String(SAMPLES)], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`idle driver failed (exit ${code}): ${out.slice(-500)}`);
  const r = JSON.parse(line) as DriverResult;
  const quantiles = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
  };
  const q = quantiles(r.delays);
  const f = quantiles(r.floor);
  const ms = (n: number) => fmt(n, 1);
  figure(
    `update -> Leshan request: p50 / p99 / max (goal p99 < 5 ms)`,
    `${ms(q(0.5))} / ${ms(q(0.99))} / ${ms(q(1))} ms  (${q(0.99) < 5 ? 'met' : 'NOT met'})`,
  );
  figure(
    'the floor: the same two HTTP hops through a bare relay, no daemon: p50 / p99 / max',
    `${ms(f(0.5))} / ${ms(f(0.99))} / ${ms(f(1))} ms`,
  );
  const over = (d: number) => `${d >= 0 ? '+' : ''}${ms(d)}`;
  figure('the daemon over the floor: p50 / p99', `${over(q(0.5) - f(0.5))} / ${over(q(0.99) - f(0.99))} ms`);
  figure(
    `event-loop delay of the daemon (beyond its ${EVENT_LOOP_SAMPLE_MS} ms sampling): p50 / p99 / max`,
    `${ms(r.daemonLoop.p50)} / ${ms(r.daemonLoop.p99)} / ${ms(r.daemonLoop.max)} ms`,
  );
  figure(
    'event-loop delay of the load generator (beyond its 1 ms sampling): p50 / p99 / max',
    `${ms(r.driverLoop.p50)} / ${ms(r.driverLoop.p99)} / ${ms(r.driverLoop.max)} ms`,
  );
}

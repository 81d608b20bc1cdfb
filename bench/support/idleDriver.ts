/**
 * The idle-delay measurement, run in a fresh process by bench/idle.bench.ts so that the heap and GC of the
 * other benchmarks do not land in the figure: the Leshan double, influxd and the daemon (compiled, with the
 * systemd unit's memory settings); for each sample a queue-mode endpoint registers and falls asleep, gets one
 * queued write, and sends an update (object 10240 resource 2), and the time from that POST to the write reaching the double is taken;
 * after each, the same through bench/support/relay.ts (the floor: the same hops, no daemon).
 * Prints one JSON line: the delays and the floor (ms), the event-loop delay of this process and the daemon's.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';
import { startLeshanDouble } from '../../tools/leshanDouble.js';
import { startDaemon } from '../../tools/daemon.js';
import { startInfluxd } from '../../tools/influxd.js';
import { freePort } from '../../tools/ports.js';
import { unitEnv } from '../memory.bench.js';
import { EVENT_LOOP_SAMPLE_MS } from '../../src/metrics/registry.js';

const SAMPLES = Number(process.argv[2] ?? 2000);
const WARM_UP = 100;
const PAUSE_MS = 20;

const waiters = new Map<string, (at: number) => void>();
const post = async (pool: Pool, p: string, body: unknown): Promise<number> => {
  const res = await pool.request({ method: 'POST', path: p, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.body.dump();
  return res.statusCode;
};
/** An object 10240 post: resource 1 a registration, 2 an update, 4 the device asleep (queue mode). */
const event = (ep: string, id: number) => ({ ep, obj_id: 10240, val: { kind: 'singleResource', id, type: 'TIME', value: 1732550000000 } });

const leshan = await startLeshanDouble({
  awakeMs: 93_000,
  onRequest: (r) => {
    if (r.method !== 'PUT' || r.path === undefined) return;
    const ep = decodeURIComponent(r.path.split('/')[3] ?? '');
    const resolve = waiters.get(ep);
    if (resolve) {
      waiters.delete(ep);
      resolve(performance.now());
    }
  },
});
const influxd = await startInfluxd();
const d = await startDaemon({
  compiled: true,
  config: { leshan: { url: leshan.url }, endpoints: { awakeMs: 93_000 }, influx: { url: influxd.url } },
  env: unitEnv(),
});
const pool = new Pool(d.url, { connections: 4 });
// the floor: the same two hops through bench/support/relay.ts, the sample after each of the daemon's
const relayPort = await freePort();
const relay = spawn(process.execPath, ['--import', 'tsx', 'bench/support/relay.ts', String(relayPort), leshan.url], {
  env: { ...process.env, ...unitEnv() },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await once(relay.stdout, 'data');
const relayPool = new Pool(`http://127.0.0.1:${relayPort}`, { connections: 4 });
const delays: number[] = [];
const floor: number[] = [];
/** The time from the update POST (to the daemon or the relay) to the write of `ep` reaching Leshan. */
const updateToRequest = async (target: Pool, ep: string): Promise<number> => {
  const arrived = new Promise<number>((resolve) => waiters.set(ep, resolve));
  const t0 = performance.now();
  await post(target, '/leshan_api/resource/single', event(ep, 2));
  return (await arrived) - t0;
};
const LOOP_SAMPLE_MS = 1;
const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
try {
  for (let i = 0; i < WARM_UP + SAMPLES; i++) {
    if (i === WARM_UP) loop.enable();
    const ep = `idle-${i}`;
    leshan.register({ endpoint: ep, queueMode: true });
    // the daemon sees the registration and the device fall asleep, as it would; the write then waits for the update
    await post(pool, '/leshan_api/resource/single', event(ep, 1));
    await post(pool, '/leshan_api/resource/single', event(ep, 4));
    const created = await post(pool, `/api/endpoints/${ep}/operations`, { kind: 'write', path: '/3/0/14', value: '+01:00' });
    if (created !== 201) throw new Error(`create answered ${created}`);
    await new Promise((r) => setTimeout(r, PAUSE_MS)); // idle: the create's journal append is done
    const delay = await updateToRequest(pool, ep);
    await new Promise((r) => setTimeout(r, PAUSE_MS));
    leshan.register({ endpoint: `floor-${i}`, queueMode: true });
    const bare = await updateToRequest(relayPool, `floor-${i}`);
    if (i >= WARM_UP) {
      delays.push(delay);
      floor.push(bare);
    }
  }
  loop.disable();
  const metrics = await (await pool.request({ method: 'GET', path: '/metrics' })).body.text();
  // Node's histograms hold each sample's whole interval: the delay is what lies beyond it
  const daemonLag = (q: string) =>
    Number(new RegExp(`^nodejs_eventloop_lag_${q}_seconds (\\S+)$`, 'm').exec(metrics)?.[1]) * 1000 - EVENT_LOOP_SAMPLE_MS;
  const driverLag = (ns: number) => ns / 1e6 - LOOP_SAMPLE_MS;
  process.stdout.write(
    JSON.stringify({
      delays,
      floor,
      driverLoop: { p50: driverLag(loop.percentile(50)), p99: driverLag(loop.percentile(99)), max: driverLag(loop.max) },
      daemonLoop: { p50: daemonLag('p50'), p99: daemonLag('p99'), max: daemonLag('max') },
    }) + '\n',
  );
} finally {
  await pool.close();
  await relayPool.close();
  relay.kill('SIGTERM');
  await d.signal('SIGTERM');
  await d.cleanup();
  await leshan.close();
  await influxd.destroy();
}

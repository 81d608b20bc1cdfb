/**
 * Fleet load (issue 5): the demo's FleetSimulator drives a stock-Leshan set-up (`leshan.ingress: events`)
 * with many queue-mode devices on a short wake/sleep cycle; every device also gets one operation. Prints
 * the values that reached InfluxDB per second, the operations delivered, and the daemon's CPU and RSS.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { FleetSimulator } from '../demo/simulator.js';
import { startDaemon } from '../tools/daemon.js';
import { startInfluxd } from '../tools/influxd.js';
import { startLeshanDouble } from '../tools/leshanDouble.js';
import { figure, fmt, heading } from './support/report.js';

const DEVICES = Number(process.env.BENCH_FLEET_DEVICES ?? 1000);
const SECONDS = Number(process.env.BENCH_FLEET_SECONDS ?? 20);
const AWAKE_MS = 2000;
const ASLEEP_MS = 4000;

const procStat = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

export async function fleetBench(): Promise<void> {
  heading(
    `Fleet (${fmt(DEVICES)} simulated queue-mode devices, awake ${AWAKE_MS / 1000} s / asleep ${ASLEEP_MS / 1000} s, ${SECONDS} s, stock-Leshan set-up)`,
  );
  const influxd = await startInfluxd();
  const leshan = await startLeshanDouble({ awakeMs: AWAKE_MS });
  const d = await startDaemon({
    compiled: true,
    config: {
      leshan: { url: leshan.url, ingress: 'events' },
      endpoints: { awakeMs: AWAKE_MS },
      influx: { url: influxd.url, database: 'fleet' },
    },
  });
  const simulator = new FleetSimulator(leshan, { devices: DEVICES, awakeMs: AWAKE_MS, asleepMs: ASLEEP_MS, latencyMs: 50 });
  const pool = new Pool(d.url, { connections: 16 });
  try {
    for (const ep of simulator.endpoints()) {
      const res = await pool.request({
        method: 'POST',
        // queued before the devices first register: endpoints the daemon has not seen yet
        path: `/api/endpoints/${ep}/operations?allowUnseen=true`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'write', path: '/5/0/1', value: 'https://example.com/fw.bin' }),
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`queuing an operation for ${ep} answered ${res.statusCode}`);
    }
    const cpu0 = procStat(d.proc.pid!);
    simulator.start();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    simulator.stop();
    const cpu = procStat(d.proc.pid!) - cpu0;
    await new Promise((r) => setTimeout(r, 2000));
    const stats = simulator.stats();
    const rows = await influxd.queryCsv('SELECT count("float") FROM lwm2m', 'fleet');
    const values = Number(rows[0]?.count ?? 0);
    const metrics = await (await pool.request({ method: 'GET', path: '/metrics' })).body.text();
    const confirmed = Number(/lwm2m_backend_operations\{status="CONFIRMED"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    figure('wake-ups / notifications sent by the devices', `${fmt(stats.updates)} / ${fmt(stats.notifications)}`);
    figure('temperatures in InfluxDB (per second)', `${fmt(values)} (${fmt(values / SECONDS, 1)}/s)`);
    figure('operations CONFIRMED (one queued per device)', `${fmt(confirmed)} of ${fmt(DEVICES)}`);
    figure('daemon CPU (share of one core)', `${fmt((cpu / SECONDS) * 100, 1)} %`);
    figure('daemon RSS', `${fmt(rssOf(d.proc.pid!) / 1048576, 1)} MiB`);
  } finally {
    simulator.stop();
    await pool.close();
    await d.signal('SIGTERM');
    await d.cleanup();
    await leshan.close();
    await influxd.destroy();
  }
}

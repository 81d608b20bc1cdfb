/** What the demo prints: one line per happening with the time, the curl lines to try, values in words. */
import { DATABASE, type DemoOptions } from './options.js';
import { OBJECT_LINKS, type FleetStats } from './simulator.js';

/** The demo's output: timed lines, and lines indented under them. */
export class Narrator {
  constructor(readonly write: (text: string) => void = (t) => void process.stdout.write(t)) {}

  /** Prints one line with the time. */
  say(text: string): void {
    this.write(`${clock()}  ${text}\n`);
  }

  indented(lines: string[]): void {
    this.write(lines.map((l) => `            ${l}\n`).join(''));
  }
}

/** `HH:MM:SS`, local time. */
export function clock(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The curl command line that queues `body` for `ep`. */
export function curlQueue(api: string, ep: string, body: unknown): string {
  return `curl -sS -X POST ${api}/api/endpoints/${ep}/operations -H 'Content-Type: application/json' -d '${JSON.stringify(body)}'`;
}

/** Commands a user can try against the running demo. */
export function tryLines(api: string, ep: string, influxUrl: string | undefined): string[] {
  const lines = [
    `curl -sS ${api}/api/endpoints                                # every device: online/offline, pending operations`,
    `curl -sS ${api}/api/endpoints/${ep}`,
    `${curlQueue(api, ep, { kind: 'write', path: '/5/0/1', value: 'https://example.com/fw.bin' })}`,
    `${curlQueue(api, ep, { kind: 'read', path: '/3303/0/5700' })}`,
    `curl -sS '${api}/api/operations?status=QUEUED'              # operations waiting for their device to wake`,
    `curl -sS ${api}/api/endpoints/${ep}/operations`,
    `curl -sS ${api}/health`,
  ];
  if (influxUrl) {
    lines.push(
      `curl -sS -G ${influxUrl}/query --data-urlencode db=${DATABASE} --data-urlencode "q=SELECT last(\\"float\\") FROM lwm2m WHERE obj='3303' GROUP BY ep"`,
    );
  }
  return lines;
}

/** The first lines, before anything starts. */
export function banner(devices: number, leshan: 'real' | 'double' = 'double'): string {
  if (leshan === 'real') {
    return (
      `lwm2m-backend demo: ${devices} LwM2M clients (queue mode, a temperature sensor each) -> Eclipse Leshan -> lwm2m-backend -> InfluxDB\n` +
      `Real: Eclipse Leshan's own demo server and LwM2M clients on Leshan's client library (Java processes, CoAP over UDP on\n` +
      `127.0.0.1), the lwm2m-backend daemon of this repository (its own process) and InfluxDB. Simulated: the readings\n` +
      `(a random walk) and the sleep (a sleeping client is stopped). Stop it with Ctrl-C.\n\n`
    );
  }
  return (
    `lwm2m-backend demo: ${devices} simulated battery-powered sensors (LwM2M queue mode) -> Leshan -> lwm2m-backend -> InfluxDB\n` +
    `Simulated: the devices and Leshan (a faithful test double of its REST API and event stream). Real: the lwm2m-backend\n` +
    `daemon of this repository, running as its own process, and InfluxDB. Stop it with Ctrl-C.\n\n`
  );
}

/** The fleet in one line, once its devices registered. */
export function fleetLine(eps: string[], o: DemoOptions): string {
  return (
    `${eps.length} devices registered with Leshan: ${eps.length > 2 ? `${eps[0]} ... ${eps.at(-1)}` : eps.join(', ')} ` +
    `(objects ${OBJECT_LINKS.join(' ')}); each wakes up every ~${fmtS(o.awakeMs + o.asleepMs)}, stays awake ~${fmtS(o.awakeMs)}, answers in ${o.latencyMs} ms`
  );
}

/** The fleet of real clients in one line, once Leshan lists them all. */
export function realFleetLine(eps: string[], objects: readonly string[], o: DemoOptions): string {
  return (
    `${eps.length} real LwM2M clients registered with Leshan in queue mode: ${eps.length > 2 ? `${eps[0]} ... ${eps.at(-1)}` : eps.join(', ')} ` +
    `(objects ${objects.join(' ')}); each wakes up every ~${fmtS(o.awakeMs + o.asleepMs)} and stays awake ~${fmtS(o.awakeMs)}; ` +
    `the daemon observes their temperature (operations.standingObservations /3303/0/5700)`
  );
}

/** The last line but one: what the fleet did, what InfluxDB got (`stored`), how the example operation and the firmware campaign ended. */
export function summaryLine(stats: FleetStats, stored: string, exampleStatus: string | undefined, real = false, firmware?: string): string {
  return (
    `summary: ${stats.devices} ${real ? 'real clients' : 'devices'}, ${stats.updates} wake-ups, ` +
    `${real ? `values: ${stored}` : `${stats.notifications} values sent (${stored})`}, ` +
    `${stats.operations} operation${stats.operations === 1 ? '' : 's'} delivered to devices${exampleStatus ? `, example operation ${exampleStatus}` : ''}` +
    `${firmware ? `, firmware campaign: ${firmware}` : ''}`
  );
}

/** One value row as InfluxDB returns it (`SELECT *`: tags and fields as columns). */
export type Row = Record<string, unknown>;

/** "demo-sensor-03 temperature 21.7 °C", "demo-sensor-07 battery 88 %", else object/resource names and the value. */
export function describeValue(row: Row): string {
  const value = row.float ?? row.int ?? row.string ?? row.bool;
  if (row.obj === '3303' && row.res === '5700' && typeof value === 'number') return `${row.ep} temperature ${value.toFixed(1)} °C`;
  if (row.obj === '3' && row.res === '9') return `${row.ep} battery ${String(value)} %`;
  const name = row.resource ? `${String(row.object ?? row.obj)} ${String(row.resource)}` : `/${row.obj}/${row.inst}/${row.res}`;
  return `${row.ep} ${name} ${JSON.stringify(value)}`;
}

const isTemperature = (r: Row) => r.obj === '3303' && r.res === '5700';

/** Up to `n` of the newest rows, of distinct devices, temperatures and other values in turn. */
export function sampleValues(rows: Row[], n: number): Row[] {
  const newest = [...rows].reverse();
  const out: Row[] = [];
  const eps = new Set<unknown>();
  let wantTemperature = true;
  while (out.length < n) {
    const pick = newest.find((r) => !eps.has(r.ep) && isTemperature(r) === wantTemperature) ?? newest.find((r) => !eps.has(r.ep));
    if (!pick) break;
    out.push(pick);
    eps.add(pick.ep);
    wantTemperature = !wantTemperature;
  }
  return out;
}

/** `12 s`, `2.5 s`. */
export function fmtS(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

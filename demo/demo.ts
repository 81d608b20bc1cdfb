/**
 * `npm run demo`: simulated sleepy sensors -> the Leshan double -> the real lwm2m-backend daemon -> InfluxDB,
 * narrated in plain lines. See demo/README.md for what it shows and the DEMO_* environment variables.
 */
import { createServer } from 'node:net';
import { startDaemon, type DaemonProcess, type LogLine } from '../tools/daemon.js';
import { influxdBinary, startInfluxd, type Influxd } from '../tools/influxd.js';
import { startLeshanDouble, type LeshanDouble } from '../tools/leshanDouble.js';
import { freePort } from '../tools/ports.js';
import { FleetSimulator, OBJECT_LINKS, type FleetEvent } from './simulator.js';

export const DATABASE = 'lwm2m_demo';
export const FIRMWARE_URL = 'https://example.com/firmware/demo-sensor-2.1.bin';

export interface DemoOptions {
  devices: number;
  awakeMs: number;
  asleepMs: number;
  latencyMs: number;
  /** Stop after this many seconds of simulation (undefined: until SIGINT/SIGTERM). */
  seconds: number | undefined;
  /** When the example operation is queued, after the devices registered. */
  operationAfterMs: number;
  /** The daemon's HTTP port when free (0: any free port). */
  port: number;
  /** `auto`, `private`, `none` or an InfluxDB 1.x URL. */
  influx: string;
  /** Run the daemon from src/ through tsx instead of dist/ (no build needed). */
  fromSources: boolean;
  /** How often InfluxDB is asked for new values. */
  pollMs: number;
}

export class DemoUsageError extends Error {}

/** The DEMO_* environment variables, checked; every problem at once in a DemoUsageError. */
export function demoOptions(env: NodeJS.ProcessEnv): DemoOptions {
  const problems: string[] = [];
  const num = (name: string, fallback: number, check: (n: number) => boolean, what: string): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!check(n)) {
      problems.push(`${name} must be ${what} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return n;
  };
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  const seconds = env.DEMO_SECONDS?.trim()
    ? num('DEMO_SECONDS', 0, (n) => Number.isFinite(n) && n > 0, 'a positive number of seconds')
    : undefined;
  const influx = env.DEMO_INFLUX?.trim() || 'auto';
  if (!['auto', 'private', 'none'].includes(influx) && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(influx)) {
    problems.push(`DEMO_INFLUX must be auto, private, none or an http:// URL (got ${JSON.stringify(influx)})`);
  }
  const options: DemoOptions = {
    devices: num('DEMO_DEVICES', 24, (n) => positiveInt(n) && n <= 10_000, 'an integer from 1 to 10000'),
    awakeMs: num('DEMO_AWAKE_MS', 4000, positiveInt, 'a positive integer (ms)'),
    asleepMs: num('DEMO_ASLEEP_MS', 8000, positiveInt, 'a positive integer (ms)'),
    latencyMs: num('DEMO_LATENCY_MS', 150, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0 (ms)'),
    seconds,
    operationAfterMs: num('DEMO_OPERATION_AFTER_S', 10, (n) => Number.isFinite(n) && n >= 0, 'a number of seconds >= 0') * 1000,
    port: num('DEMO_PORT', 8000, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0: any free port)'),
    influx,
    fromSources: env.DEMO_FROM_SOURCES === '1',
    pollMs: num('DEMO_POLL_MS', 3000, (n) => positiveInt(n) && n >= 100, 'an integer >= 100 (ms)'),
  };
  if (problems.length > 0) throw new DemoUsageError(problems.join('\n'));
  return options;
}

/** `preferred` if nothing listens there on 127.0.0.1 (0: any), else a free port. */
export async function pickPort(preferred: number): Promise<{ port: number; busy: boolean }> {
  if (preferred === 0) return { port: await freePort(), busy: false };
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? { port: preferred, busy: false } : { port: await freePort(), busy: true };
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

/** What InfluxDB's /query answers, one statement's series flattened into rows. */
function rowsOf(result: { series?: { columns: string[]; values: unknown[][] }[] } | undefined): Row[] {
  const rows: Row[] = [];
  for (const s of result?.series ?? []) {
    for (const v of s.values) {
      const row: Row = {};
      s.columns.forEach((c, i) => {
        if (v[i] !== null) row[c] = v[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

type InfluxChoice = { kind: 'existing'; url: string } | { kind: 'private'; url: string; influxd: Influxd } | { kind: 'none'; why: string };

async function pings(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1500) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

interface OperationView {
  id: string;
  status: string;
  attempts: number;
  error?: string;
  result?: { status?: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINAL = new Set(['CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED']);

/** The whole demo: start everything, narrate, stop everything. `run()` resolves to the exit code. */
export class Demo {
  private stopReason: string | undefined;
  private resolveStop!: () => void;
  private readonly stopRequested = new Promise<void>((r) => (this.resolveStop = r));
  private exitCode = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private leshan: LeshanDouble | undefined;
  private influx: InfluxChoice | undefined;
  private daemon: DaemonProcess | undefined;
  private fleet: FleetSimulator | undefined;
  private api = '';
  private startedAt = 0;
  private opTarget: string | undefined;
  private opPolling: Promise<void> | undefined;
  private opFinal: string | undefined;
  private opStatus: string | undefined;
  private readonly seenRows = new Map<string, number>();
  private valuesSeen = 0;
  private polling = false;

  constructor(
    private readonly options: DemoOptions,
    private readonly write: (text: string) => void = (t) => void process.stdout.write(t),
  ) {}

  /** Prints one line with the time. */
  say(text: string): void {
    this.write(`${clock()}  ${text}\n`);
  }

  private indented(lines: string[]): void {
    this.write(lines.map((l) => `            ${l}\n`).join(''));
  }

  /** SIGINT/SIGTERM or the end of DEMO_SECONDS. A second signal gives up on stopping cleanly. */
  requestStop(reason: string): void {
    if (this.stopReason !== undefined) {
      if (reason === 'Ctrl-C' || reason === 'SIGTERM') {
        this.say('second signal: exiting at once');
        this.daemon?.proc.kill('SIGKILL');
        const pid = this.influx?.kind === 'private' ? this.influx.influxd.pid : undefined;
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
        process.exit(1);
      }
      return;
    }
    this.stopReason = reason;
    this.resolveStop();
  }

  private checkStop(): void {
    if (this.stopReason !== undefined) throw new StopDuringStart();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  async run(): Promise<number> {
    try {
      await this.start();
      await this.stopRequested;
    } catch (err) {
      // a signal during the start can also make a child (influxd, the daemon) fail: that is a stop, not an error
      if (!(err instanceof StopDuringStart) && this.stopReason === undefined) {
        this.say(`the demo could not start: ${err instanceof Error ? err.message : String(err)}`);
        this.exitCode = 1;
      }
    }
    await this.stop();
    return this.exitCode;
  }

  private async start(): Promise<void> {
    const o = this.options;
    this.write(
      `lwm2m-backend demo: ${o.devices} simulated battery-powered sensors (LwM2M queue mode) -> Leshan -> lwm2m-backend -> InfluxDB\n` +
        `Simulated: the devices and Leshan (a faithful test double of its REST API and event stream). Real: the lwm2m-backend\n` +
        `daemon of this repository, running as its own process, and InfluxDB. Stop it with Ctrl-C.\n\n`,
    );
    this.leshan = await startLeshanDouble({ heartbeatMs: 10_000 });
    this.say(`Leshan (a test double of its REST API and event stream) is at ${this.leshan.url}`);
    this.checkStop();

    this.influx = await this.chooseInflux();
    this.checkStop();

    const { port, busy } = await pickPort(o.port);
    if (busy) this.say(`port ${o.port} is busy: the daemon listens on ${port} instead`);
    this.api = `http://127.0.0.1:${port}`;
    this.say(
      `starting lwm2m-backend${o.fromSources ? ' from the sources (tsx)' : ' (dist/main.js)'}, following Leshan's event stream (leshan.ingress "events") ...`,
    );
    this.daemon = await startDaemon({
      compiled: !o.fromSources,
      config: {
        http: { host: '127.0.0.1', port },
        leshan: { url: this.leshan.url, ingress: 'events' },
        influx: { url: this.influx.kind === 'none' ? 'http://127.0.0.1:8086' : this.influx.url, database: DATABASE },
        endpoints: { awakeMs: o.awakeMs },
        log: { level: 'info' },
      },
      waitReady: false,
    });
    const daemon = this.daemon;
    try {
      await daemon.waitForLine((l) => l.message === 'ready', 30_000);
    } catch {
      this.checkStop();
      const why = daemon.lines.filter((l) => l.level === 'fatal' || l.level === 'error').map((l) => l.message);
      const stderr = daemon.stderr().trim().split('\n').slice(-5);
      throw new Error(
        `lwm2m-backend did not start${daemon.proc.exitCode !== null ? ` (exit code ${daemon.proc.exitCode})` : ''}: ${[...why, ...stderr].join('; ') || 'no ready line within 30 s'}`,
      );
    }
    this.checkStop();
    void daemon.exited.then(({ code, signal }) => {
      if (this.stopReason !== undefined) return;
      this.say(`lwm2m-backend exited unexpectedly (${signal ?? `exit code ${code}`})`);
      const stderr = daemon.stderr().trim();
      if (stderr) this.indented(stderr.split('\n').slice(-10));
      this.exitCode = 1;
      this.requestStop('lwm2m-backend exited');
    });
    this.every(250, () => this.pumpDaemonLog());
    this.say(`lwm2m-backend is running (pid ${daemon.proc.pid}), its API at ${this.api}, its data in ${daemon.dataDir} (removed at exit)`);
    await this.waitFor(() => (this.leshan?.streamCount() ?? 0) > 0, 10_000);
    this.checkStop();
    await this.reportHealth();
    this.checkStop();

    this.startedAt = Date.now() - 1000;
    this.fleet = new FleetSimulator(this.leshan, {
      devices: o.devices,
      awakeMs: o.awakeMs,
      asleepMs: o.asleepMs,
      latencyMs: o.latencyMs,
      onActivity: (line, event) => this.activity(line, event),
    });
    this.fleet.start();
    const eps = this.fleet.endpoints();
    this.say(
      `${eps.length} devices registered with Leshan: ${eps.length > 2 ? `${eps[0]} ... ${eps.at(-1)}` : eps.join(', ')} ` +
        `(objects ${OBJECT_LINKS.join(' ')}); each wakes up every ~${fmtS(o.awakeMs + o.asleepMs)}, stays awake ~${fmtS(o.awakeMs)}, answers in ${o.latencyMs} ms`,
    );
    this.say(`try it yourself in another terminal while the demo runs:`);
    this.indented(tryLines(this.api, eps[1] ?? eps[0]!, this.influx.kind === 'none' ? undefined : this.influx.url));

    if (this.influx.kind !== 'none') this.pollInflux();
    this.later(o.operationAfterMs, () => void this.queueOperation());
    if (o.seconds !== undefined) {
      const seconds = o.seconds;
      this.later(seconds * 1000, () => this.requestStop(`DEMO_SECONDS=${seconds} elapsed`));
    }
  }

  private async chooseInflux(): Promise<InfluxChoice> {
    const wanted = this.options.influx;
    const standard = 'http://127.0.0.1:8086';
    if (wanted === 'none') return this.noInflux('DEMO_INFLUX=none');
    if (wanted !== 'auto' && wanted !== 'private') {
      const url = wanted.replace(/\/+$/, '');
      this.say(
        `InfluxDB: using ${url} (DEMO_INFLUX), database "${DATABASE}"${(await pings(url)) ? '' : ' (it does not answer /ping right now)'}`,
      );
      return { kind: 'existing', url };
    }
    if (wanted === 'auto' && (await pings(standard))) {
      this.say(
        `InfluxDB: using the one answering on ${standard}, database "${DATABASE}" (kept after the demo; DROP DATABASE ${DATABASE} to remove it)`,
      );
      return { kind: 'existing', url: standard };
    }
    let binary: string;
    try {
      binary = influxdBinary();
    } catch {
      return this.noInflux(wanted === 'auto' ? `nothing answers on ${standard} and influxd is not installed` : 'influxd is not installed');
    }
    this.say(`InfluxDB: ${wanted === 'auto' ? `nothing answers on ${standard}; ` : ''}starting a private ${binary} in a temp folder ...`);
    const influxd = await startInfluxd();
    this.say(`InfluxDB: the private influxd is at ${influxd.url}, database "${DATABASE}" (removed at exit)`);
    return { kind: 'private', url: influxd.url, influxd };
  }

  private noInflux(why: string): InfluxChoice {
    this.say(
      `InfluxDB: none (${why}). Values are NOT stored: the daemon still runs and takes operations, its /health shows "influx" failing,`,
    );
    this.indented([
      'and it keeps the values in its spool on disk. To see values land: apt install influxdb (or run influxd on 127.0.0.1:8086) and start again.',
    ]);
    return { kind: 'none', why };
  }

  private async reportHealth(): Promise<void> {
    let body: { status?: string; failing?: string[]; checks?: Record<string, { state?: string; error?: string }> } = {};
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        body = (await (await fetch(`${this.api}/health`)).json()) as typeof body;
      } catch {
        body = {};
      }
      const influxState = body.checks?.influx?.state;
      if (body.status === 'ok' || (influxState !== undefined && influxState !== 'connecting') || Date.now() > deadline) break;
      await sleep(100);
    }
    this.pumpDaemonLog();
    if (body.status === 'ok') {
      this.say(`health: ok (InfluxDB connected, Leshan's event stream open)   curl -sS ${this.api}/health`);
    } else {
      const influx = body.checks?.influx;
      const why = influx?.error ? ` (influx: ${influx.state}, ${influx.error})` : '';
      this.say(
        `health: ${body.status ?? 'unknown'}, failing: ${(body.failing ?? []).join(', ') || '?'}${why}   curl -sS ${this.api}/health`,
      );
    }
  }

  private activity(line: string, event: FleetEvent): void {
    switch (event.kind) {
      case 'wake':
      case 'operation':
        this.say(line);
        return;
      case 'sleep':
        if (event.ep === this.opTarget && this.opFinal === undefined) this.say(line);
        return;
      default:
        return; // registrations: one summary line
    }
  }

  /** The daemon's own log (JSON lines): warnings and errors, and when InfluxDB connects, as plain lines. */
  private pumpDaemonLog(): void {
    const lines = this.daemon?.lines;
    if (!lines || lines.length === 0) return;
    const taken = lines.splice(0);
    for (const l of taken) this.daemonLine(l);
  }

  private daemonLine(l: LogLine): void {
    const level = String(l.level ?? '');
    // once stopping, warnings are expected (a Ctrl-C in a terminal also stops the private influxd at once)
    const shown = this.stopReason === undefined ? ['warn', 'error', 'fatal', 'raw'] : ['error', 'fatal'];
    if (!shown.includes(level) && !(l.message === 'InfluxDB connected' && this.stopReason === undefined)) return;
    const extra = Object.entries(l)
      .filter(
        ([k, v]) => !['level', 'time', 'component', 'message', 'pid'].includes(k) && ['string', 'number', 'boolean'].includes(typeof v),
      )
      .map(([k, v]) => `${k} ${String(v).replace(/\s+/g, ' ').trim()}`);
    const tag = level === 'info' ? '' : ` (${level})`;
    this.say(`lwm2m-backend says${tag}: ${l.message ?? ''}${extra.length ? ` [${extra.join(', ')}]` : ''}`);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.timers.add(t);
  }

  private async waitFor(cond: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline && this.stopReason === undefined) await sleep(50);
  }

  private pollInflux(): void {
    this.later(this.options.pollMs, () => {
      void this.pollOnce().finally(() => {
        if (this.stopReason === undefined) this.pollInflux();
      });
    });
  }

  /** New rows since the last poll (rows of the last minute, minus those already seen). */
  private async pollOnce(): Promise<void> {
    if (this.influx?.kind === 'none' || !this.influx || this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      const sinceNs = BigInt(Math.max(this.startedAt, now - 60_000)) * 1_000_000n;
      const q = `SELECT * FROM "lwm2m" WHERE time > ${sinceNs}; SELECT * FROM "registration" WHERE time > ${sinceNs}`;
      const res = await fetch(`${this.influx.url}/query?db=${DATABASE}&q=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) return void (await res.arrayBuffer());
      const body = (await res.json()) as { results?: { series?: { columns: string[]; values: unknown[][] }[] }[] };
      const fresh = (rows: Row[]) =>
        rows.filter((r) => {
          const key = [r.time, r.ep, r.obj, r.inst, r.res, r.ri, r.event].join('|');
          if (this.seenRows.has(key)) return false;
          this.seenRows.set(key, now + 120_000);
          return true;
        });
      const values = fresh(rowsOf(body.results?.[0]));
      const registrations = fresh(rowsOf(body.results?.[1]));
      for (const [k, until] of this.seenRows) if (until < now) this.seenRows.delete(k);
      this.valuesSeen += values.length;
      if (values.length === 0 && registrations.length === 0) return;
      const samples = sampleValues(values, 3).map(describeValue);
      const regs = registrations.length ? ` and ${registrations.length} registration event${registrations.length === 1 ? '' : 's'}` : '';
      const more = values.length > samples.length ? ', ...' : '';
      this.say(
        `${values.length} new value${values.length === 1 ? '' : 's'}${regs} in InfluxDB${samples.length ? ` (${samples.join(', ')}${more})` : ''}`,
      );
    } catch {
      // InfluxDB slow or stopping: try again at the next poll
    } finally {
      this.polling = false;
    }
  }

  /** Queues a firmware URL write for a sleeping device exactly as the curl line shows, then follows it. */
  private async queueOperation(): Promise<void> {
    const fleet = this.fleet;
    if (!fleet || this.stopReason !== undefined) return;
    let target: string | undefined;
    try {
      const list = (await (await fetch(`${this.api}/api/endpoints?limit=1000`)).json()) as {
        items: { ep: string; state: string; registered: boolean }[];
      };
      // asleep for the daemon and for the simulator; the one that fell asleep last, so that it visibly waits
      const byDevice = fleet.stats().byDevice;
      const asleep = list.items.filter((i) => i.registered && i.state === 'offline' && byDevice[i.ep]?.awake === false);
      target = asleep.sort((a, b) => byDevice[b.ep]!.since - byDevice[a.ep]!.since)[0]?.ep;
    } catch {
      // the daemon is stopping
    }
    const body = { kind: 'write', path: '/5/0/1', value: FIRMWARE_URL };
    const ep = target ?? fleet.endpoints()[0]!;
    this.opTarget = ep;
    this.say(
      `now an operator queues a firmware URL write (5/0/1) for ${ep}, which is ${target ? 'asleep' : 'awake (no device asleep right now)'}; the same as:`,
    );
    this.indented([curlQueue(this.api, ep, body)]);
    let op: OperationView;
    const queuedAt = Date.now();
    try {
      const res = await fetch(`${this.api}/api/endpoints/${ep}/operations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      op = (await res.json()) as OperationView;
      if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${JSON.stringify(op)}`);
    } catch (err) {
      if (this.stopReason === undefined) this.say(`queueing the operation failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.opPolling = this.followOperation(op, ep, queuedAt);
  }

  private async followOperation(first: OperationView, ep: string, queuedAt: number): Promise<void> {
    const id = first.id;
    let last = { status: '', attempts: -1 };
    let op = first;
    for (;;) {
      if (op.status !== last.status || op.attempts !== last.attempts) {
        this.opStatus = op.status;
        this.sayOperation(op, ep, queuedAt, last.status);
        last = { status: op.status, attempts: op.attempts };
      }
      if (FINAL.has(op.status)) {
        this.opFinal = op.status;
        this.say(`see it yourself: curl -sS ${this.api}/api/operations/${id}`);
        return;
      }
      await sleep(50);
      if (this.stopReason !== undefined) return;
      try {
        op = (await (await fetch(`${this.api}/api/operations/${id}`)).json()) as OperationView;
      } catch {
        if (this.stopReason !== undefined) return;
      }
    }
  }

  private sayOperation(op: OperationView, ep: string, queuedAt: number, previous: string): void {
    const name = `operation ${op.id}`;
    const after = `${((Date.now() - queuedAt) / 1000).toFixed(1)} s after it was queued`;
    switch (op.status) {
      case 'QUEUED':
        if (previous === '') {
          this.say(`${name} is QUEUED: ${ep} is asleep, so the daemon keeps it (on disk) until Leshan says ${ep} is awake`);
        } else {
          this.say(`${name} is QUEUED again: ${op.error ?? 'not delivered'} (attempt ${op.attempts} used); it waits for the next wake-up`);
        }
        return;
      case 'SENDING':
        this.say(`${name} is SENDING: ${ep} is awake, the daemon sends the write through Leshan's REST API (attempt ${op.attempts})`);
        return;
      case 'CONFIRMED':
        this.say(`${name} is CONFIRMED: ${ep} answered ${op.result?.status ?? 'success'}, ${after}`);
        return;
      default:
        this.say(`${name} is ${op.status}${op.error ? `: ${op.error}` : ''}, ${after}`);
    }
  }

  private async stop(): Promise<void> {
    const reason = this.stopReason ?? 'start failed';
    this.say(`stopping (${reason}) ...`);
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
    await this.opPolling;
    const stats = this.fleet?.stats();
    this.fleet?.stop();
    if (this.daemon) {
      const d = this.daemon;
      let exit = d.proc.exitCode !== null || d.proc.signalCode !== null ? await d.exited : undefined;
      if (!exit) {
        d.proc.kill('SIGTERM');
        const killer = setTimeout(() => d.proc.kill('SIGKILL'), 12_000);
        exit = await d.exited;
        clearTimeout(killer);
      }
      this.pumpDaemonLog();
      this.say(`lwm2m-backend stopped (${exit.signal ?? `exit code ${exit.code}`})`);
      if (exit.code !== 0 && this.stopReason !== 'lwm2m-backend exited') this.exitCode = 1;
      await d.cleanup();
    }
    await this.leshan?.close();
    if (this.influx?.kind === 'private') {
      await this.influx.influxd.destroy();
      this.say('private influxd stopped and removed');
    }
    if (stats) {
      const stored = this.influx?.kind === 'none' ? 'not stored: no InfluxDB' : `${this.valuesSeen} seen in InfluxDB`;
      this.say(
        `summary: ${stats.devices} devices, ${stats.updates} wake-ups, ${stats.notifications} values sent (${stored}), ` +
          `${stats.operations} operation${stats.operations === 1 ? '' : 's'} delivered to devices${this.opStatus ? `, example operation ${this.opStatus}` : ''}`,
      );
    }
    this.say('done');
  }
}

class StopDuringStart extends Error {}

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

function fmtS(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** `npm run demo`: options from the environment, signals, exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options: DemoOptions;
  try {
    options = demoOptions(env);
  } catch (err) {
    if (!(err instanceof DemoUsageError)) throw err;
    process.stderr.write(`demo: ${err.message.split('\n').join('\ndemo: ')}\n`);
    return 2;
  }
  const demo = new Demo(options);
  const onInt = () => demo.requestStop('Ctrl-C');
  const onTerm = () => demo.requestStop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await demo.run();
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

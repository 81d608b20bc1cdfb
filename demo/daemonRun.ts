/** The real lwm2m-backend daemon under the demo: its start, its log and health in plain lines, its stop. */
import { startDaemon, type DaemonProcess, type LogLine } from '../tools/daemon.js';
import { sleep, type StopSignal } from './lifecycle.js';
import type { Narrator } from './narration.js';
import { DATABASE } from './options.js';

export interface DaemonSetup {
  port: number;
  /** Run it from src/ through tsx instead of dist/. */
  fromSources: boolean;
  leshanUrl: string;
  /** The InfluxDB it writes to (undefined: none; it is then given 127.0.0.1:8086). */
  influxUrl: string | undefined;
  awakeMs: number;
  /** `leshan.requestTimeoutS` (default: the daemon's). */
  requestTimeoutS?: number;
  /** `operations.standingObservations` (default none). */
  standingObservations?: { path: string }[];
}

/** The daemon as its own process, following Leshan's event stream (leshan.ingress "events"). */
export class DaemonRun {
  private daemon: DaemonProcess | undefined;

  constructor(
    private readonly n: Narrator,
    private readonly stop: StopSignal,
  ) {}

  /** Starts the daemon and waits for its ready line; throws, with the daemon's own reasons, when it does not come. */
  async start(s: DaemonSetup): Promise<DaemonProcess> {
    this.n.say(
      `starting lwm2m-backend${s.fromSources ? ' from the sources (tsx)' : ' (dist/main.js)'}, following Leshan's event stream (leshan.ingress "events") ...`,
    );
    this.daemon = await startDaemon({
      compiled: !s.fromSources,
      config: {
        http: { host: '127.0.0.1', port: s.port },
        leshan: { url: s.leshanUrl, ingress: 'events', ...(s.requestTimeoutS !== undefined && { requestTimeoutS: s.requestTimeoutS }) },
        influx: { url: s.influxUrl ?? 'http://127.0.0.1:8086', database: DATABASE },
        endpoints: { awakeMs: s.awakeMs },
        ...(s.standingObservations && { operations: { standingObservations: s.standingObservations } }),
        log: { level: 'info' },
      },
      waitReady: false,
    });
    const daemon = this.daemon;
    try {
      await daemon.waitForLine((l) => l.message === 'ready', 30_000);
    } catch {
      this.stop.check();
      const why = daemon.lines.filter((l) => l.level === 'fatal' || l.level === 'error').map((l) => l.message);
      const stderr = daemon.stderr().trim().split('\n').slice(-5);
      throw new Error(
        `lwm2m-backend did not start${daemon.proc.exitCode !== null ? ` (exit code ${daemon.proc.exitCode})` : ''}: ${[...why, ...stderr].join('; ') || 'no ready line within 30 s'}`,
      );
    }
    return daemon;
  }

  /** Says so when the daemon exits before the demo stops, with the end of its stderr, then calls `then`. */
  onUnexpectedExit(then: () => void): void {
    const daemon = this.daemon;
    if (!daemon) return;
    void daemon.exited.then(({ code, signal }) => {
      if (this.stop.stopping) return;
      this.n.say(`lwm2m-backend exited unexpectedly (${signal ?? `exit code ${code}`})`);
      const stderr = daemon.stderr().trim();
      if (stderr) this.n.indented(stderr.split('\n').slice(-10));
      then();
    });
  }

  /** Resolves once the daemon has reconciled with Leshan's registrations (its event stream is open). */
  async streamOpen(timeoutMs: number): Promise<void> {
    await this.daemon?.waitForLine((l) => l.message === "reconciled with Leshan's registrations", timeoutMs);
  }

  /** A second signal: no clean stop. */
  kill(): void {
    this.daemon?.proc.kill('SIGKILL');
  }

  /** `/health` once InfluxDB's check has an answer (at most 5 s), in one line. */
  async reportHealth(api: string): Promise<void> {
    let body: { status?: string; failing?: string[]; checks?: Record<string, { state?: string; error?: string }> } = {};
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        body = (await (await fetch(`${api}/health`)).json()) as typeof body;
      } catch {
        body = {};
      }
      const influxState = body.checks?.influx?.state;
      if (body.status === 'ok' || (influxState !== undefined && influxState !== 'connecting') || Date.now() > deadline) break;
      await sleep(100);
    }
    this.pumpLog();
    if (body.status === 'ok') {
      this.n.say(`health: ok (InfluxDB connected, Leshan's event stream open)   curl -sS ${api}/health`);
    } else {
      const influx = body.checks?.influx;
      const why = influx?.error ? ` (influx: ${influx.state}, ${influx.error})` : '';
      this.n.say(`health: ${body.status ?? 'unknown'}, failing: ${(body.failing ?? []).join(', ') || '?'}${why}   curl -sS ${api}/health`);
    }
  }

  /** The daemon's own log (JSON lines): warnings and errors, and when InfluxDB connects, as plain lines. */
  pumpLog(): void {
    const lines = this.daemon?.lines;
    if (!lines || lines.length === 0) return;
    const taken = lines.splice(0);
    for (const l of taken) this.logLine(l);
  }

  private logLine(l: LogLine): void {
    const level = String(l.level ?? '');
    // once stopping, warnings are expected (a Ctrl-C in a terminal also stops the private influxd at once)
    const shown = this.stop.stopping ? ['error', 'fatal'] : ['warn', 'error', 'fatal', 'raw'];
    if (!shown.includes(level) && !(l.message === 'InfluxDB connected' && !this.stop.stopping)) return;
    const extra = Object.entries(l)
      .filter(
        ([k, v]) => !['level', 'time', 'component', 'message', 'pid'].includes(k) && ['string', 'number', 'boolean'].includes(typeof v),
      )
      .map(([k, v]) => `${k} ${String(v).replace(/\s+/g, ' ').trim()}`);
    const tag = level === 'info' ? '' : ` (${level})`;
    this.n.say(`lwm2m-backend says${tag}: ${l.message ?? ''}${extra.length ? ` [${extra.join(', ')}]` : ''}`);
  }

  /** SIGTERM (SIGKILL after 12 s) unless it exited already, then its data removed; its exit (undefined: never started). */
  async shutdown(): Promise<Awaited<DaemonProcess['exited']> | undefined> {
    const d = this.daemon;
    if (!d) return undefined;
    let exit = d.proc.exitCode !== null || d.proc.signalCode !== null ? await d.exited : undefined;
    if (!exit) {
      d.proc.kill('SIGTERM');
      const killer = setTimeout(() => d.proc.kill('SIGKILL'), 12_000);
      exit = await d.exited;
      clearTimeout(killer);
    }
    this.pumpLog();
    this.n.say(`lwm2m-backend stopped (${exit.signal ?? `exit code ${exit.code}`})`);
    await d.cleanup();
    return exit;
  }
}

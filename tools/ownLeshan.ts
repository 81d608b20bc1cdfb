/**
 * This project's own Leshan server (leshan-server/, docs/leshan-server.md) in tests: the jar that
 * scripts/build-leshan-server.sh builds (run here when needed; 30 ms when up to date), started as a Java child
 * process on free loopback ports, posting to the daemon at `daemonUrl`, stopped by pid. Its REST API and event
 * stream are the stock demo's, so the real-Leshan clients of tools/realLeshan.ts register to it as to the demo:
 *
 * ```ts
 * const leshan = await startOwnLeshanServer({ daemonUrl: daemon.url, awakeTimeSeconds: 3 });
 * const dev = await startRealLeshanClient(leshan, { endpoint: 'dev1', queueMode: true });
 * await leshan.stop();
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { freeUdpPort } from './realLeshan.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JAR = path.join(ROOT, 'leshan-server/target/lwm2m-leshan-server.jar');
const JVM = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', '-XX:-UsePerfData'];

let built = false;

/** Runs scripts/build-leshan-server.sh (fast when the jar is up to date) and returns the jar's path. */
export function ensureOwnLeshan(): string {
  if (built) return JAR;
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/build-leshan-server.sh')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build-leshan-server.sh failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  if (!existsSync(JAR)) throw new Error(`scripts/build-leshan-server.sh did not leave ${JAR}`);
  built = true;
  return JAR;
}

export interface OwnLeshanServer {
  /** The REST API and event stream: `http://127.0.0.1:PORT` (the daemon's `leshan.url`). */
  readonly url: string;
  readonly webPort: number;
  readonly coapPort: number;
  /** What a client's `-u` takes: `coap://127.0.0.1:PORT`. */
  readonly coapUrl: string;
  readonly proc: ChildProcess;
  /** The last 64 KiB of its log. */
  output(): string;
  /** GET /api/clients, parsed. */
  clients(): Promise<Record<string, unknown>[]>;
  /** Resolves once `ep` is in GET /api/clients (polled every 100 ms). */
  waitForClient(ep: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM (SIGKILL after 10 s): it stops CoAP and HTTP, then gives queued posts 3 s to reach the daemon. */
  stop(): Promise<void>;
}

export interface OwnLeshanOptions {
  /** The daemon's base URL (`--daemon-url`). */
  daemonUrl: string;
  /** `--awake-time` seconds (default 93, Leshan's). */
  awakeTimeSeconds?: number;
  /** `--post-queue-size` (default 10 000). */
  postQueueSize?: number;
  /** The REST API's port (default a free one): the daemon can be configured with `leshan.url` before this starts. */
  webPort?: number;
  /** How long to wait for GET /api/clients to answer 200 (default 60 s). */
  readyTimeoutMs?: number;
}

/** Every server started here is SIGKILLed when the test process exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, 'SIGKILL');
});

export async function startOwnLeshanServer(options: OwnLeshanOptions): Promise<OwnLeshanServer> {
  const jar = ensureOwnLeshan();
  const webPort = options.webPort ?? (await freePort());
  const coapPort = await freeUdpPort();
  const args = [...JVM, '-jar', jar, '--daemon-url', options.daemonUrl, '--http-address', '127.0.0.1', '--http-port', String(webPort)];
  args.push('--coap-address', '127.0.0.1', '--coap-port', String(coapPort));
  if (options.awakeTimeSeconds !== undefined) args.push('--awake-time', String(options.awakeTimeSeconds));
  if (options.postQueueSize !== undefined) args.push('--post-queue-size', String(options.postQueueSize));
  const proc = spawn('java', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let log = '';
  const add = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-65536);
  };
  proc.stdout?.on('data', add);
  proc.stderr?.on('data', add);
  const url = `http://127.0.0.1:${webPort}`;

  const clients = async (): Promise<Record<string, unknown>[]> => {
    const res = await fetch(`${url}/api/clients`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /api/clients answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>[];
  };

  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };

  const readyMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`the project's Leshan server exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${log}`);
    try {
      const res = await fetch(`${url}/api/clients`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the project's Leshan server was not ready within ${readyMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    webPort,
    coapPort,
    coapUrl: `coap://127.0.0.1:${coapPort}`,
    proc,
    output: () => log,
    clients,
    async waitForClient(ep, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const found = (await clients()).find((c) => c.endpoint === ep);
        if (found) return found;
        if (Date.now() > end) throw new Error(`${ep} not in GET /api/clients within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
  };
}

/**
 * The real Eclipse Leshan in tests: Leshan's demo server (its REST API and event stream, CoAP on UDP) and real
 * LwM2M clients built on Leshan's client library, each a Java child process on free loopback ports, stopped by
 * pid. The jars come from Maven Central through scripts/ensure-leshan.sh (run here when needed; fast once
 * cached); what they are, their options and how they differ from the test double: docs/leshan-demo.md.
 *
 * ```ts
 * const leshan = await startRealLeshanServer();                       // REST on leshan.url, CoAP on leshan.coapUrl
 * const dev = await startRealLeshanClient(leshan, { endpoint: 'dev1', queueMode: true, lifetime: 60 });
 * await dev.update();                                                  // `update` on its stdin, waits for "updated"
 * await dev.stop();                                                    // deregisters, waits for the exit
 * await leshan.stop();
 * ```
 * Every process started here is also killed (SIGKILL) when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLeshanRestProcess, stopProcess, tail, track, type LeshanRestProcess } from './javaProcess.js';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Versions scripts/ensure-leshan.sh resolves (keep both in step). */
export const LESHAN_SERVER_VERSION = '2.0.0-M4';
export const LESHAN_CLIENT_VERSION = '2.0.0-M18';

export interface LeshanArtifacts {
  serverJar: string;
  /** Class path of the client launcher (LeshanTestClient) and Leshan's client library. */
  clientClassPath: string;
}

/** Where scripts/ensure-leshan.sh caches what it resolves. */
export function leshanCacheDir(): string {
  return process.env.LESHAN_CACHE_DIR ?? path.join(homedir(), '.cache/lwm2m-backend/leshan');
}

let ensured: LeshanArtifacts | undefined;

/** Runs scripts/ensure-leshan.sh (milliseconds once cached; Maven and javac the first time) and returns the paths. */
export function ensureLeshan(): LeshanArtifacts {
  if (ensured) return ensured;
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/ensure-leshan.sh')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/ensure-leshan.sh failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
  const cache = leshanCacheDir();
  const serverJar = path.join(cache, 'server', `leshan-server-demo-${LESHAN_SERVER_VERSION}-jar-with-dependencies.jar`);
  const classes = path.join(cache, 'client', 'classes');
  if (!existsSync(serverJar) || !existsSync(path.join(classes, 'LeshanTestClient.class'))) {
    throw new Error(`scripts/ensure-leshan.sh did not leave ${serverJar} and ${classes}/LeshanTestClient.class`);
  }
  ensured = { serverJar, clientClassPath: `${classes}:${path.join(cache, 'client', 'lib', '*')}` };
  return ensured;
}

/** A UDP port on 127.0.0.1 that was free a moment ago (CoAP is UDP: a free TCP port says nothing). */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

// The demo server is built for Java 8: on Java 17 its Gson serialisers reflect into java.base (a registration's
// empty attribute map is java.util.Collections$EmptyMap), which fails without these (GET /api/clients answers
// 500 and the REGISTRATION event is lost). The others only make a JVM start faster on two shared cores.
const SERVER_JVM = [
  '--add-opens',
  'java.base/java.util=ALL-UNNAMED',
  '--add-opens',
  'java.base/java.lang=ALL-UNNAMED',
  '--add-opens',
  'java.base/java.net=ALL-UNNAMED',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xshare:auto',
];
const CLIENT_JVM = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto'];

/** Leshan's demo server: its REST API process (stop: SIGTERM, SIGKILL after 5 s, and its working directory removed). */
export interface RealLeshanServer extends LeshanRestProcess {
  readonly webPort: number;
  /** CoAP (UDP) and CoAPs (UDP, DTLS) ports, on 127.0.0.1. */
  readonly coapPort: number;
  readonly coapsPort: number;
  /** What a client's `-u` takes: `coap://127.0.0.1:PORT`. */
  readonly coapUrl: string;
  readonly pid: number | undefined;
}

export interface RealLeshanServerOptions {
  /** How long to wait for GET /api/clients to answer 200 (default 60 s: a cold JVM on a busy machine). */
  readyTimeoutMs?: number;
  /**
   * Listen on these ports instead of free ones: a server started again on the ports of one that was stopped
   * (`{ webPort, coapPort, coapsPort }` of it), so that the daemon and the clients find it where they left it.
   */
  ports?: { webPort: number; coapPort: number; coapsPort: number };
}

/**
 * Leshan's demo server on free loopback ports: `-wh 127.0.0.1 -wp W` (HTTP), `-lh 127.0.0.1 -lp C` (CoAP),
 * `-slh 127.0.0.1 -slp S` (CoAPs: it cannot be turned off, so it gets its own free port too). Its working
 * directory (where it writes Californium.properties and its security store) is a temp dir of its own.
 * Ready when GET /api/clients answers 200. With `options.ports` it takes those ports (a restart on the same ones).
 */
export async function startRealLeshanServer(options: RealLeshanServerOptions = {}): Promise<RealLeshanServer> {
  const { serverJar } = ensureLeshan();
  const work = await mkdtemp(path.join(tmpdir(), 'lwm2m-leshan-'));
  const webPort = options.ports?.webPort ?? (await freePort());
  const coapPort = options.ports?.coapPort ?? (await freeUdpPort());
  let coapsPort = options.ports?.coapsPort ?? (await freeUdpPort());
  while (!options.ports && coapsPort === coapPort) coapsPort = await freeUdpPort();
  const args = [
    ...SERVER_JVM,
    '-jar',
    serverJar,
    '-wh',
    '127.0.0.1',
    '-wp',
    String(webPort),
    '-lh',
    '127.0.0.1',
    '-lp',
    String(coapPort),
    '-slh',
    '127.0.0.1',
    '-slp',
    String(coapsPort),
  ];
  const server = await startLeshanRestProcess({
    name: 'Leshan demo server',
    args,
    cwd: work,
    webPort,
    graceMs: 5000,
    ...(options.readyTimeoutMs !== undefined && { readyTimeoutMs: options.readyTimeoutMs }),
    cleanup: () => rm(work, { recursive: true, force: true }),
  });
  return {
    ...server,
    webPort,
    coapPort,
    coapsPort,
    coapUrl: `coap://127.0.0.1:${coapPort}`,
    get pid() {
      return server.proc.pid;
    },
  };
}

/** One line of LeshanTestClient's stdout: `{"event":"registered","id":"/rd/x"}` and the like. */
export type ClientEvent = { event: string } & Record<string, unknown>;

export interface RealLeshanClient {
  readonly endpoint: string;
  readonly pid: number | undefined;
  readonly proc: ChildProcess;
  /** Every event line so far, in order. */
  readonly events: ClientEvent[];
  /** The registration id the server gave at the last registration (the location path's last segment). */
  registrationId(): string | undefined;
  /** The last 64 KiB of its log (stderr). */
  output(): string;
  /** The first event named `event` (or one of the names) from the `from`-th on (default 0: any so far, then the ones to come). */
  waitFor(event: string | string[], options?: { from?: number; timeoutMs?: number }): Promise<ClientEvent>;
  /** Writes one command line to its stdin (`update`, `send current-value /3303/0/5700`, `collect /3/0/9`, ...). */
  command(line: string): void;
  /** `update`, resolved on the `updated` that follows. */
  update(timeoutMs?: number): Promise<void>;
  /** `send -c FORMAT current-value PATH...`, resolved on its `sendOk` (rejects on `sendFailed` or `error`). */
  send(paths: string[], format?: 'SENML_JSON' | 'SENML_CBOR', timeoutMs?: number): Promise<ClientEvent>;
  /** Deregisters (`deregister` on stdin) and waits for the exit (SIGKILL after `graceMs`, default 10 s). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: the device vanishes without deregistering. */
  kill(): Promise<void>;
  /** SIGSTOP: the device stops answering (Leshan's requests time out) while it stays registered. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

export interface RealLeshanClientOptions {
  endpoint: string;
  /** `-q`: registers in queue mode (LwM2M 1.1: the `Q` parameter). */
  queueMode?: boolean;
  /** `-l` seconds (default 300, the demo client's). */
  lifetime?: number;
  /** `-cp` seconds: how often the client sends a registration update (default: from the lifetime). */
  communicationPeriod?: number;
  /**
   * `-cf`: the only content formats the client encodes and decodes besides the mandatory TEXT and OPAQUE (e.g.
   * `['SENML_CBOR', 'SENML_JSON']`; its registration's root link then lists just these as `ct`). Default: all of Leshan's.
   */
  contentFormats?: string[];
  /** Wait for `registered` (default true) and for the server to list it (when `server` is a RealLeshanServer). */
  waitRegistered?: boolean;
  timeoutMs?: number;
}

/**
 * A real LwM2M client (LeshanTestClient on Leshan's client library): `-n ENDPOINT -u coap://127.0.0.1:PORT
 * [-q] [-l LIFETIME] [-cp PERIOD] [-cf FORMATS] -lh 127.0.0.1`, Device (3), Firmware Update (5/0) and Temperature
 * (3303/0) objects; its commands go
 * to its stdin. Resolves once it has registered (its `registered` line) and the server lists it.
 */
export async function startRealLeshanClient(
  server: Pick<RealLeshanServer, 'coapUrl' | 'waitForClient'> | string, // the demo server, or any with these two (tools/ownLeshan.ts)
  options: RealLeshanClientOptions,
): Promise<RealLeshanClient> {
  const { clientClassPath } = ensureLeshan();
  const coapUrl = typeof server === 'string' ? server : server.coapUrl;
  const args = [...CLIENT_JVM, '-cp', clientClassPath, 'LeshanTestClient', '-n', options.endpoint, '-u', coapUrl, '-lh', '127.0.0.1'];
  if (options.queueMode) args.push('-q');
  if (options.lifetime !== undefined) args.push('-l', String(options.lifetime));
  if (options.communicationPeriod !== undefined) args.push('-cp', String(options.communicationPeriod));
  if (options.contentFormats !== undefined) args.push('-cf', options.contentFormats.join(','));
  const proc = spawn('java', args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  track(proc);
  const log = tail(65536);
  proc.stderr?.on('data', log.add);
  const events: ClientEvent[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        events.push(JSON.parse(line) as ClientEvent);
      } catch {
        continue;
      }
      for (const w of [...waiters]) w();
    }
  });
  proc.once('exit', () => {
    for (const w of [...waiters]) w();
  });
  proc.stdin?.on('error', () => undefined); // a write after the exit

  const waitFor = (
    event: string | string[],
    { from = 0, timeoutMs = 20_000 }: { from?: number; timeoutMs?: number } = {},
  ): Promise<ClientEvent> =>
    new Promise((resolve, reject) => {
      const names = typeof event === 'string' ? [event] : event;
      const check = (): void => {
        const found = events.slice(from).find((e) => names.includes(e.event));
        if (found) {
          done();
          resolve(found);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          done();
          reject(new Error(`client ${options.endpoint} exited before "${event}"; events ${JSON.stringify(events)}; log:\n${log.text()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `client ${options.endpoint}: no "${event}" within ${timeoutMs} ms; events ${JSON.stringify(events)}; log:\n${log.text()}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const command = (line: string): void => {
    proc.stdin?.write(`${line}\n`);
  };

  const client: RealLeshanClient = {
    endpoint: options.endpoint,
    get pid() {
      return proc.pid;
    },
    proc,
    events,
    registrationId() {
      const reg = [...events].reverse().find((e) => e.event === 'registered');
      return typeof reg?.id === 'string' ? reg.id.split('/').pop() : undefined;
    },
    output: log.text,
    waitFor,
    command,
    async update(timeoutMs = 20_000) {
      const from = events.length;
      command('update');
      await waitFor('updated', { from, timeoutMs });
    },
    async send(paths, format = 'SENML_JSON', timeoutMs = 20_000) {
      const from = events.length;
      command(`send -c ${format} current-value ${paths.join(' ')}`);
      const outcome = await waitFor(['sendOk', 'sendFailed', 'error'], { from, timeoutMs });
      if (outcome.event !== 'sendOk') throw new Error(`send ${paths.join(' ')} failed: ${JSON.stringify(outcome)}`);
      return outcome;
    },
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      command('deregister');
      proc.stdin?.end();
      const timer = setTimeout(() => {
        if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      await stopProcess(proc, 'SIGKILL', 0);
    },
    pause() {
      if (proc.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, 'SIGSTOP');
    },
    resume() {
      if (proc.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, 'SIGCONT');
    },
  };

  if (options.waitRegistered ?? true) {
    try {
      await waitFor('registered', { timeoutMs: options.timeoutMs ?? 30_000 });
      if (typeof server !== 'string') await server.waitForClient(options.endpoint, options.timeoutMs ?? 30_000);
    } catch (err) {
      await client.kill();
      throw err;
    }
  }
  return client;
}

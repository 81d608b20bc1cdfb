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
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLeshanRestProcess, type LeshanRestProcess } from './javaProcess.js';
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

/** Its REST API process (stop: SIGTERM, SIGKILL after 10 s: it stops CoAP and HTTP, then gives queued posts 3 s to reach the daemon). */
export interface OwnLeshanServer extends LeshanRestProcess {
  readonly webPort: number;
  readonly coapPort: number;
  /** What a client's `-u` takes: `coap://127.0.0.1:PORT`. */
  readonly coapUrl: string;
}

export interface OwnLeshanOptions {
  /** The daemon's base URL (`--daemon-url`). */
  daemonUrl: string;
  /** `--awake-time` seconds (default 93, Leshan's). */
  awakeTimeSeconds?: number;
  /** `--delayed-requests` (default true, the stock demo's: a request for a sleeping client is kept; false: 400 "sleeping"). */
  delayedRequests?: boolean;
  /** `--post-queue-size` (default 10 000). */
  postQueueSize?: number;
  /** The REST API's port (default a free one): the daemon can be configured with `leshan.url` before this starts. */
  webPort?: number;
  /** How long to wait for GET /api/clients to answer 200 (default 60 s). */
  readyTimeoutMs?: number;
}

export async function startOwnLeshanServer(options: OwnLeshanOptions): Promise<OwnLeshanServer> {
  const jar = ensureOwnLeshan();
  const webPort = options.webPort ?? (await freePort());
  const coapPort = await freeUdpPort();
  const args = [...JVM, '-jar', jar, '--daemon-url', options.daemonUrl, '--http-address', '127.0.0.1', '--http-port', String(webPort)];
  args.push('--coap-address', '127.0.0.1', '--coap-port', String(coapPort));
  if (options.awakeTimeSeconds !== undefined) args.push('--awake-time', String(options.awakeTimeSeconds));
  if (options.postQueueSize !== undefined) args.push('--post-queue-size', String(options.postQueueSize));
  if (options.delayedRequests !== undefined) args.push('--delayed-requests', String(options.delayedRequests));
  const server = await startLeshanRestProcess({
    name: "the project's Leshan server",
    args,
    cwd: ROOT,
    webPort,
    graceMs: 10_000,
    ...(options.readyTimeoutMs !== undefined && { readyTimeoutMs: options.readyTimeoutMs }),
  });
  return { ...server, webPort, coapPort, coapUrl: `coap://127.0.0.1:${coapPort}` };
}

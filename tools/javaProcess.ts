/**
 * Java child processes in tests (Leshan's demo server, this project's Leshan server, Leshan clients): tracked
 * so that every one is SIGKILLed when the test process exits, stopped by pid, their output's tail kept for error
 * messages; and what both Leshan servers share: the REST API's readiness and client list.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Children still running, killed when the test process exits whatever the reason. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of running)
        if (p.pid !== undefined)
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
    });
  }
}

/** Stops one child by pid: `signal`, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid, signal);
  const timer = setTimeout(() => {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last `max` characters of a stream, for error messages. */
export function tail(max: number): { add(chunk: Buffer | string): void; text(): string } {
  let text = '';
  return {
    add(chunk) {
      text = (text + chunk.toString()).slice(-max);
    },
    text: () => text,
  };
}

/** A Leshan server with the demo's REST API, as a child process. */
export interface LeshanRestProcess {
  /** The REST API and event stream: `http://127.0.0.1:PORT` (the daemon's `leshan.url`). */
  readonly url: string;
  readonly proc: ChildProcess;
  /** The last 64 KiB of its output. */
  output(): string;
  /** GET /api/clients, parsed. */
  clients(): Promise<Record<string, unknown>[]>;
  /** Resolves once `ep` is in GET /api/clients (polled every 100 ms). */
  waitForClient(ep: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM (SIGKILL after the grace time), then the clean-up. */
  stop(): Promise<void>;
}

export interface LeshanRestProcessOptions {
  /** For error messages: "Leshan demo server". */
  name: string;
  args: string[];
  cwd: string;
  webPort: number;
  /** How long to wait for GET /api/clients to answer 200 (default 60 s: a cold JVM on a busy machine). */
  readyTimeoutMs?: number;
  /** From SIGTERM to SIGKILL at stop. */
  graceMs: number;
  /** After the process has exited (e.g. remove its working directory). */
  cleanup?: () => Promise<void>;
}

/** Starts `java ARGS` and resolves once its REST API answers GET /api/clients with 200. */
export async function startLeshanRestProcess(options: LeshanRestProcessOptions): Promise<LeshanRestProcess> {
  const { name, args, cwd, webPort, graceMs } = options;
  const proc = spawn('java', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  track(proc);
  const out = tail(65536);
  proc.stdout?.on('data', out.add);
  proc.stderr?.on('data', out.add);
  const url = `http://127.0.0.1:${webPort}`;

  const clients = async (): Promise<Record<string, unknown>[]> => {
    const res = await fetch(`${url}/api/clients`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /api/clients answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>[];
  };

  const stop = async (): Promise<void> => {
    await stopProcess(proc, 'SIGTERM', graceMs);
    await options.cleanup?.();
  };

  const readyMs = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${out.text()}`);
    }
    try {
      const res = await fetch(`${url}/api/clients`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready within ${readyMs} ms:\n${out.text()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    proc,
    output: out.text,
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

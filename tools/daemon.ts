import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = path.join(ROOT, 'src/main.ts');

export type LogLine = Record<string, unknown> & { level?: string; message?: string; component?: string };

/** The real daemon as a child process (`node --import tsx src/main.ts`), with its own data dir and port. */
export interface DaemonProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly proc: ChildProcess;
  readonly lines: LogLine[];
  readonly stderr: () => string;
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and resolves to the exit code (or the signal name) and how long the exit took. */
  signal(sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  cleanup(): Promise<void>;
}

export interface DaemonOptions {
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Wait for the "ready" log line (default true). */
  waitReady?: boolean;
  dataDir?: string;
  /** Run the compiled `dist/main.js` (after `npm run build`) instead of the sources through tsx. */
  compiled?: boolean;
  /** Command-line arguments after `--config FILE`, e.g. `['--salvage-store']`. */
  args?: string[];
}

export async function startDaemon(options: DaemonOptions = {}): Promise<DaemonProcess> {
  const work = await mkdtemp(path.join(tmpdir(), 'lwm2m-daemon-'));
  const dataDir = options.dataDir ?? path.join(work, 'data');
  const port = await freePort();
  const config = {
    http: { host: '127.0.0.1', port },
    dataDir,
    influx: { url: 'http://127.0.0.1:9', connectIntervalMs: 200 },
    ...options.config,
  };
  const configFile = path.join(work, 'config.json');
  await writeFile(configFile, JSON.stringify(config));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('LWM2M_') && k !== 'NOTIFY_SOCKET' && !k.startsWith('WATCHDOG_')) env[k] = v;
  }
  const entry = options.compiled ? [path.join(ROOT, 'dist/main.js')] : ['--import', 'tsx', MAIN];
  const proc = spawn(process.execPath, [...entry, '--config', configFile, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let stderr = '';
  let pending = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 'raw', message: text };
      }
      lines.push(line);
      for (const w of waiters) {
        if (w.predicate(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const waitForLine = (predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> => {
    const found = lines.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve };
      waiters.add(waiter);
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}; lines: ${JSON.stringify(lines)}`));
      }, timeoutMs);
      void exited.then(() => {
        // wake up as soon as the process is gone, rather than at the timeout
        setTimeout(() => {
          if (waiters.has(waiter)) {
            waiters.delete(waiter);
            clearTimeout(timer);
            reject(new Error(`daemon exited; stderr: ${stderr}; lines: ${JSON.stringify(lines)}`));
          }
        }, 50);
      });
      const origResolve = waiter.resolve;
      waiter.resolve = (l) => {
        clearTimeout(timer);
        origResolve(l);
      };
    });
  };

  const daemon: DaemonProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    proc,
    lines,
    stderr: () => stderr,
    waitForLine,
    async signal(sig) {
      const t0 = performance.now();
      proc.kill(sig);
      const result = await exited;
      return { ...result, ms: performance.now() - t0 };
    },
    exited,
    async cleanup() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      await rm(work, { recursive: true, force: true });
    },
  };
  if (options.waitReady ?? true) await waitForLine((l) => l.message === 'ready');
  return daemon;
}

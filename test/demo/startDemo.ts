/** The demo as the user runs it, for the demo's tests: its output, waits on it, its exit. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

export interface Demo {
  child: ChildProcess;
  /** Everything printed so far. */
  out(): string;
  err(): string;
  /** Resolves once the output matches. */
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/**
 * `node --import tsx demo/run.ts` (what `npm run demo` runs after the build), the daemon from the sources, the Leshan
 * test double unless `env` says DEMO_LESHAN; SIGKILLed after `killAfterMs`.
 */
export function startDemo(env: Record<string, string>, killAfterMs = 40_000): Demo {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('DEMO_') && !k.startsWith('LWM2M_')) clean[k] = v;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts'], {
    cwd: ROOT,
    env: { ...clean, DEMO_FROM_SOURCES: '1', DEMO_PORT: '0', DEMO_LESHAN: 'double', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      for (const w of waiters) w();
      resolve({ code, signal, ms: Date.now() - t0 });
    }),
  );
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    exited,
    waitFor(re, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(stdout);
          if (m) {
            done();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`demo exited before printing ${re}:\n${stdout}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${re} within ${ms} ms:\n${stdout}\n${stderr}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs a command line exactly as the demo printed it (the user would paste it into a shell). */
export async function shell(line: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', line], { timeout: 10_000 });
  return stdout;
}

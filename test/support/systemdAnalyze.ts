/**
 * systemd-analyze for the unit tests: run it offline (no running manager is needed), and read a unit file.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

/**
 * Stable, uncoloured, untranslated output, and warnings printed even if the caller's environment
 * lowers the log level (SYSTEMD_LOG_LEVEL=err would hide "Unknown key" warnings).
 */
const ANALYZE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  LC_ALL: 'C',
  SYSTEMD_LOG_LEVEL: 'info',
  SYSTEMD_LOG_COLOR: '0',
  SYSTEMD_COLORS: '0',
  SYSTEMD_PAGER: 'cat',
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output whatever the code (rejects only on spawn errors). */
export function run(file: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: ANALYZE_ENV, timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

async function findAnalyzer(): Promise<string | undefined> {
  for (const candidate of ['/usr/bin/systemd-analyze', 'systemd-analyze']) {
    try {
      const { code } = await run(candidate, ['--version']);
      if (code === 0) return candidate;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

export const analyzer = await findAnalyzer();
export const skip = analyzer ? false : 'systemd-analyze is not installed on this machine';

/**
 * `verify` without a running manager: --man=no (no man(1) lookups for Documentation=),
 * --generators=no (do not run system generators), --recursive-errors=no (only this unit's own
 * problems count for the exit status, not those of targets it is ordered after on the host).
 */
export function verify(path: string): Promise<RunResult> {
  return run(analyzer!, ['verify', '--man=no', '--generators=no', '--recursive-errors=no', path]);
}

/** `systemd-analyze security --offline=yes` of a unit file: its overall exposure level (0 safest, 10 worst). */
export async function exposureLevel(path: string): Promise<number> {
  const result = await run(analyzer!, ['security', '--offline=yes', '--no-pager', path]);
  if (result.code !== 0) throw new Error(`systemd-analyze security exited ${result.code}: ${result.stderr}`);
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(result.stdout);
  if (!match) throw new Error(`no "Overall exposure level" in:\n${result.stdout}\n${result.stderr}`);
  return Number(match[1]);
}

/** What `verify` says about the unit named `name` (lines about other units on the host left out). */
export async function verifyComplaints(path: string, name: string): Promise<string[]> {
  return outputLines(await verify(path)).filter((line) => line.includes(name));
}

export function outputLines(result: RunResult): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0);
}

/** section -> key -> values in file order (a key may be assigned several times). */
export type UnitFile = Map<string, Map<string, string[]>>;

/** Minimal systemd unit parser: sections, comments (# ;), backslash continuations, repeated keys. */
export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
    }
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] as string, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `unparsable unit line: ${line}`);
    const key = line.slice(0, eq).trim();
    const values = section.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    section.set(key, values);
  }
  return unit;
}

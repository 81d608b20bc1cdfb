import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { freePort } from './ports.js';

/** A real `influxd` (Debian's influxdb 1.6) of the test's own, on loopback ports, in a temp dir. */
export interface Influxd {
  readonly url: string;
  readonly port: number;
  /** The running server's process id (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stops the server (keeping its data); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Runs an InfluxQL query and returns the parsed JSON answer. */
  query(q: string, db?: string): Promise<InfluxQueryResult>;
  /**
   * Runs a query asking for CSV, so that values come back as InfluxDB's own text (JSON numbers would lose
   * integers above 2^53 in JavaScript). One record per row, keyed by column name.
   */
  queryCsv(q: string, db: string): Promise<Record<string, string>[]>;
  /** Stops the server and removes its files. */
  destroy(): Promise<void>;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
export interface InfluxQueryResult {
  results: { statement_id: number; series?: InfluxSeries[]; error?: string }[];
  error?: string;
}

export function influxdBinary(): string {
  for (const candidate of ['/usr/bin/influxd', '/usr/local/bin/influxd']) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('influxd not found: install Debian\'s "influxdb" package (scripts/test.sh does it)');
}

function configText(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
  cache-snapshot-write-cold-duration = "10s"
[retention]
  enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[logging]
  level = "error"
`;
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`influxd exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/ping`);
      if (res.status === 204) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`influxd did not answer /ping within ${timeoutMs} ms`);
}

export async function startInfluxd(): Promise<Influxd> {
  const binary = influxdBinary();
  const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const configFile = path.join(dir, 'influxd.conf');
  await writeFile(configFile, configText(dir, port, rpcPort));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    if (child) return;
    stderr = '';
    const proc = spawn(binary, ['run', '-config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child = proc;
    try {
      await waitForPing(url, proc, 20_000);
    } catch (err) {
      proc.kill('SIGKILL');
      child = undefined;
      throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const query = async (q: string, db?: string): Promise<InfluxQueryResult> => {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db) params.set('db', db);
    const res = await fetch(`${url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
    });
    return (await res.json()) as InfluxQueryResult;
  };

  const queryCsv = async (q: string, db: string): Promise<Record<string, string>[]> => {
    const params = new URLSearchParams({ q, db, epoch: 'ns' });
    const res = await fetch(`${url}/query?${params}`, { headers: { accept: 'application/csv' } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`query failed: ${res.status} ${text}`);
    return parseCsv(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  };

  await start();
  return {
    url,
    port,
    get pid() {
      return child?.pid;
    },
    start,
    stop,
    query,
    queryCsv,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real Prometheus for the daemon-health dashboard's queries: `prometheus` from PATH, or else Debian's
 * package fetched with `apt-get download` and unpacked (not installed: no service, no user) into a cache
 * directory under the OS temp dir. It scrapes the given targets every second as job `lwm2m-backend`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../tools/ports.js';

const CACHE = path.join(tmpdir(), 'lwm2m-backend-prometheus');

/** The prometheus binary, fetched once if needed; undefined where neither PATH nor apt-get has it. */
export function prometheusBinary(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const cached = path.join(CACHE, 'root/usr/bin/prometheus');
  if (existsSync(cached)) return cached;
  if (spawnSync('sh', ['-c', 'command -v apt-get && command -v dpkg-deb']).status !== 0) return undefined;
  mkdirSync(CACHE, { recursive: true });
  const download = spawnSync('apt-get', ['download', 'prometheus'], { cwd: CACHE, stdio: 'ignore', timeout: 120_000 });
  const deb = readdirSync(CACHE).find((f) => f.startsWith('prometheus_') && f.endsWith('.deb'));
  if (download.status !== 0 || !deb) return undefined;
  spawnSync('dpkg-deb', ['-x', path.join(CACHE, deb), path.join(CACHE, 'root')], { stdio: 'ignore' });
  return existsSync(cached) ? cached : undefined;
}

export interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  readonly url: string;
  /** An instant query; rejects with Prometheus' error text when the expression is refused. */
  query(expr: string): Promise<PromResult[]>;
  /** The values of a label on the series of a metric (what Grafana's label_values(metric, label) lists). */
  labelValues(metric: string, label: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(binary: string, targets: string[]): Promise<Prometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lwm2m-prom-'));
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: lwm2m-backend',
      `    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = async <T>(route: string, params: Record<string, string>): Promise<T> => {
    const res = await fetch(`${url}/api/v1/${route}?${new URLSearchParams(params).toString()}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    query: async (expr) => (await api<{ result: PromResult[] }>('query', { query: expr })).result,
    labelValues: (metric, label) => api<string[]>(`label/${label}/values`, { 'match[]': metric }),
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

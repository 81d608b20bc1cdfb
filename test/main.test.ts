import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon, type DaemonProcess } from '../tools/daemon.js';
import { freePort } from '../tools/ports.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});
async function daemon(...args: Parameters<typeof startDaemon>): Promise<DaemonProcess> {
  const d = await startDaemon(...args);
  cleanups.push(() => d.cleanup());
  return d;
}

describe('the daemon process', () => {
  it('serves /health once ready and exits 0 within 5 s of SIGTERM', async () => {
    const d = await daemon();
    const res = await fetch(`${d.url}/health`);
    assert.equal(res.status, 503, 'InfluxDB is not reachable in this test');
    const body = (await res.json()) as { failing: string[] };
    assert.ok(body.failing.includes('influx'), JSON.stringify(body));
    const exit = await d.signal('SIGTERM');
    assert.equal(exit.code, 0);
    assert.ok(exit.ms < 5000, `took ${exit.ms} ms`);
    assert.ok(d.lines.some((l) => l.message === 'stopped'));
    for (const line of d.lines) {
      assert.equal(typeof line.time, 'string');
      assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(line.level as string), JSON.stringify(line));
      assert.equal(typeof line.message, 'string');
    }
  });

  it('handles SIGINT the same way, and a second signal while stopping does not kill it', async () => {
    const d = await daemon();
    d.proc.kill('SIGINT');
    const exit = await d.signal('SIGINT');
    assert.equal(exit.code, 0);
    assert.equal(exit.signal, null);
    assert.equal(d.lines.filter((l) => l.message === 'stopping').length, 1, 'stopping is logged once');
  });

  it('logs as JSON lines with component and extra fields at the configured level', async () => {
    const d = await daemon({ config: { log: { level: 'debug' } } });
    const listening = await d.waitForLine((l) => l.message === 'listening');
    assert.equal(listening.component, 'http');
    assert.equal(listening.port, d.port);
    await d.signal('SIGTERM');
    const quiet = await daemon({ config: { log: { level: 'warn' } }, waitReady: false });
    await quiet.waitForLine((l) => String(l.message).startsWith('InfluxDB unreachable'));
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(
      quiet.lines.every((l) => l.level === 'warn' || l.level === 'error'),
      JSON.stringify(quiet.lines),
    );
  });

  it('exits 78 on an invalid configuration, listing every problem without a stack trace', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-main-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ http: { port: 0 }, leshan: { url: 'nope' } }));
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', file], {
      env: { ...process.env, LWM2M_ENDPOINTS_AWAKEMS: '-5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise((resolve) => proc.once('exit', resolve));
    assert.equal(code, 78);
    assert.equal(stdout, '');
    assert.match(stderr, /invalid configuration/);
    assert.match(stderr, /- http\.port: /);
    assert.match(stderr, /- leshan\.url: /);
    assert.match(stderr, /- endpoints\.awakeMs: .*LWM2M_ENDPOINTS_AWAKEMS/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('exits 78 with one line naming http.port when the port is in use (no restart loop)', async () => {
    const first = await daemon();
    const second = await daemon({ config: { http: { host: '127.0.0.1', port: first.port } }, waitReady: false });
    const exit = await second.exited;
    assert.equal(exit.code, 78);
    assert.equal(second.stderr(), `lwm2m-backend: http.port: 127.0.0.1:${first.port} is already in use by another process\n`);
    assert.ok(second.lines.some((l) => l.level === 'fatal' && /^http\.port: /.test(String(l.message))));
  });

  it('exits 78 with one line naming dataDir when it cannot be created, and does not hang under /proc', async () => {
    const underProc = await daemon({ dataDir: '/proc/lwm2m-nope/data', waitReady: false });
    assert.equal((await underProc.exited).code, 78);
    assert.match(
      underProc.stderr(),
      /^lwm2m-backend: dataDir: \/proc\/lwm2m-nope\/data cannot be created \(ENOENT: no such file or directory\)\n$/,
    );
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-main-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'file'), 'not a directory');
    const underFile = await daemon({ dataDir: path.join(dir, 'file', 'data'), waitReady: false });
    assert.equal((await underFile.exited).code, 78);
    assert.match(underFile.stderr(), /^lwm2m-backend: dataDir: .*file\/data cannot be created \(ENOTDIR/);
    assert.doesNotMatch(underFile.stderr() + underProc.stderr(), /\n\s+at /, 'no stack trace');
  });

  it('logs its set-up once ready: ingress, Leshan, InfluxDB target, auth and dataDir, no secrets', async () => {
    const d = await daemon({ config: { auth: { token: 'sekret-token' }, leshan: { url: 'http://u:pw@127.0.0.1:9' } } });
    const ready = await d.waitForLine((l) => l.message === 'ready');
    assert.equal(ready.ingress, 'posts');
    assert.equal(ready.leshanUrl, 'http://***@127.0.0.1:9/');
    assert.equal(ready.influxApi, 'v1');
    assert.equal(ready.influxTarget, 'database lwm2m');
    assert.equal(ready.auth, 'token');
    assert.equal(ready.dataDir, d.dataDir);
    assert.equal(ready.http, `127.0.0.1:${d.port}`);
    assert.match(String(ready.version), /^\d+\.\d+\.\d+/);
    assert.ok(!d.lines.some((l) => JSON.stringify(l).includes('sekret') || JSON.stringify(l).includes(':pw@')));
  });
});

/** Runs `node src/main.ts ARGS` to its end. */
async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  return { code, stdout, stderr };
}

describe('the command line', () => {
  it('prints usage for --help and the version for --version, and exits 0 without starting', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: lwm2m-backend /);
    assert.match(help.stdout, /--print-config/);
    assert.equal(help.stderr, '');
    const require = createRequire(import.meta.url);
    const { version } = require('../package.json') as { version: string };
    const v = await run(['--version']);
    assert.deepEqual(v, { code: 0, stdout: `lwm2m-backend ${version}\n`, stderr: '' });
  });

  it('prints the effective configuration with secrets masked for --print-config, and exits 78 when it is invalid', async () => {
    const r = await run(['--print-config'], {
      LWM2M_AUTH_TOKEN: 'sekret',
      LWM2M_INFLUX_URL: 'http://admin:pw@127.0.0.1:8086',
      LWM2M_HTTP_PORT: '8123',
    });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as { http: { port: number }; auth: { token: string }; influx: { url: string; token: string } };
    assert.equal(printed.http.port, 8123, 'environment overrides are applied');
    assert.equal(printed.auth.token, '***');
    assert.equal(printed.influx.token, '', 'an unset secret shows as unset');
    assert.equal(printed.influx.url, 'http://***@127.0.0.1:8086/');
    assert.ok(!r.stdout.includes('sekret') && !r.stdout.includes(':pw@'));
    const bad = await run(['--print-config'], { LWM2M_HTTP_PORT: 'x' });
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /http\.port/);
  });

  it('exits 78 naming an unknown argument', async () => {
    const r = await run(['--salvage']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /unknown argument "--salvage"/);
  });
});

describe('journald', () => {
  it('prefixes each line with its syslog priority when stdout is the journal (JOURNAL_STREAM), and not otherwise', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-journal-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'stdout');
    const fd = openSync(out, 'w');
    const { dev, ino } = fstatSync(fd, { bigint: true });
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        JOURNAL_STREAM: `${dev}:${ino}`,
        LWM2M_HTTP_PORT: String(port),
        LWM2M_DATADIR: path.join(dir, 'data'),
        LWM2M_INFLUX_URL: 'http://127.0.0.1:9',
      },
      stdio: ['ignore', fd, 'ignore'],
    });
    closeSync(fd);
    const ready = async (): Promise<boolean> => (await readFile(out, 'utf8')).includes('"message":"ready"');
    for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 50));
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.once('exit', resolve));
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    const info = lines.find((l) => l.includes('"message":"ready"'));
    assert.match(info ?? '', /^<6>\{"level":"info",/);
    const warn = lines.find((l) => l.includes('"level":"warn"'));
    assert.match(warn ?? '', /^<4>\{"level":"warn",/, 'InfluxDB is unreachable here: a warning is logged');
    assert.ok(
      lines.every((l) => /^<[2-7]>\{/.test(l)),
      lines.join('\n'),
    );

    const d = await daemon();
    assert.ok(
      d.lines.every((l) => l.level !== 'raw'),
      'a pipe that is not the journal gets plain JSON lines',
    );
  });
});

describe('systemd notify', () => {
  it('sends READY=1 once serving, WATCHDOG=1 at half of WATCHDOG_USEC and STOPPING=1 on SIGTERM', async () => {
    const require = createRequire(import.meta.url);
    const unix = require('unix-dgram') as {
      createSocket(type: string, listener: (buf: Buffer) => void): { bind(p: string): void; close(): void };
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-notify-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'notify.sock');
    const messages: { text: string; at: number }[] = [];
    let onReady: (() => void) | undefined;
    let healthAtReady: Promise<number> | undefined;
    let url = '';
    const socket = unix.createSocket('unix_dgram', (buf) => {
      const text = buf.toString();
      messages.push({ text, at: performance.now() });
      if (text === 'READY=1') {
        healthAtReady = fetch(`${url}/health`).then((r) => r.status);
        onReady?.();
      }
    });
    socket.bind(socketPath);
    cleanups.push(async () => socket.close());

    const readyReceived = new Promise<void>((resolve) => (onReady = resolve));
    const dPromise = daemon({ env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' }, waitReady: false });
    const d = await dPromise;
    url = d.url;
    await readyReceived;
    assert.equal(await healthAtReady, 503, 'HTTP answers at the moment READY=1 arrives');
    await new Promise((r) => setTimeout(r, 450));
    const exit = await d.signal('SIGTERM');
    assert.equal(exit.code, 0);
    const texts = messages.map((m) => m.text);
    assert.equal(texts[0], 'READY=1');
    assert.equal(texts.at(-1), 'STOPPING=1');
    assert.equal(texts.filter((t) => t === 'READY=1').length, 1);
    const pings = messages.filter((m) => m.text === 'WATCHDOG=1');
    assert.ok(pings.length >= 2 && pings.length <= 8, `expected a ping every ~100 ms, got ${pings.length}`);
    const gaps = pings.slice(1).map((p, i) => p.at - pings[i]!.at);
    for (const gap of gaps) assert.ok(gap > 60 && gap < 400, `watchdog gap ${gap} ms`);
  });

  it('sends nothing and needs nothing without NOTIFY_SOCKET', async () => {
    const d = await daemon();
    assert.ok(!d.lines.some((l) => /sd_notify/.test(String(l.message))));
    assert.equal((await d.signal('SIGTERM')).code, 0);
  });
});

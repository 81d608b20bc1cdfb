import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon, type DaemonProcess } from '../tools/daemon.js';

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
    assert.deepEqual(body.failing, ['influx']);
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
    await quiet.waitForLine((l) => l.message === 'InfluxDB unreachable');
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

  it('exits 1 with a log line when it cannot listen', async () => {
    const first = await daemon();
    const second = await daemon({ config: { http: { host: '127.0.0.1', port: first.port } }, waitReady: false });
    const exit = await second.exited;
    assert.equal(exit.code, 1);
    assert.ok(second.lines.some((l) => l.level === 'fatal' && l.message === 'start failed'));
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

/**
 * A hostile or broken Leshan against the real daemon process (tools/daemon.ts), with the Leshan test
 * double's faults: answers that drip or never end, a 64 MiB answer, content nested 100 000 deep, event-stream
 * endpoint names that cannot be stored, fuzzed event-stream frames, a line that never ends.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import type { Operation } from '../../src/operations/operation.js';
import { startDaemon, type DaemonProcess, type LogLine } from '../../tools/daemon.js';
import { sseFrame, startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function leshanDouble(): Promise<LeshanDouble> {
  const d = await startLeshanDouble({ heartbeatMs: 1000 });
  cleanups.push(() => d.close());
  return d;
}

async function daemon(...args: Parameters<typeof startDaemon>): Promise<DaemonProcess> {
  const d = await startDaemon(...args);
  cleanups.push(() => d.cleanup());
  return d;
}

async function createOp(d: DaemonProcess, ep: string, body: unknown): Promise<Operation> {
  // allowUnseen: some of these endpoints are never registered on purpose
  const r = await fetch(`${d.url}/api/endpoints/${encodeURIComponent(ep)}/operations?allowUnseen=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()) as Operation;
}

async function getOp(d: DaemonProcess, id: string): Promise<Operation> {
  const r = await fetch(`${d.url}/api/operations/${id}`);
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as Operation;
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(20);
  }
}

/** Peak resident memory of a process so far (VmHWM), in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kb, 'VmHWM in /proc/pid/status');
  return Number(kb) / 1024;
}

/** Current resident memory (VmRSS), in MiB. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
}

async function invalidEvents(d: DaemonProcess): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  return Number(/^lwm2m_backend_leshan_events_total\{type="invalid"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

const serious = (l: LogLine): boolean => /uncaught|unhandled/.test(String(l.message)) || l.level === 'fatal';

describe('a hostile Leshan against the real daemon (ingress: events)', () => {
  let leshan: LeshanDouble;
  let d: DaemonProcess;
  before(async () => {
    leshan = await leshanDouble();
    d = await daemon({ config: { leshan: { url: leshan.url, ingress: 'events', requestTimeoutS: 1 } } });
    await d.waitForLine((l) => l.message === "reconciled with Leshan's registrations");
  });

  it('a 64 MiB read answer is a counted failed attempt: nothing stored, memory not blown', { timeout: 20_000 }, async () => {
    const before = await rssMiB(d.proc.pid!);
    leshan.fault({ kind: 'huge', bytes: 64 * 1024 * 1024, chunked: true }, { match: (r) => r.path.startsWith('/huge1/') });
    leshan.register({ endpoint: 'huge1', queueMode: false });
    await waitFor('huge1 online', async () => (await fetch(`${d.url}/api/endpoints/huge1`)).status === 200);
    const op = await createOp(d, 'huge1', { kind: 'read', path: '/3/0/1' });
    const done = await waitFor('the attempt recorded', async () => {
      const o = await getOp(d, op.id);
      return o.status !== 'SENDING' && o.attempts === 1 && o;
    });
    assert.equal(done.status, 'QUEUED', 'an unexpected answer: counted, retried at the next wake');
    assert.equal(done.result, undefined, 'nothing of the answer is stored');
    assert.match(done.error ?? '', /answer larger than 1048576 bytes \(maxResponseBytes\); not kept\) \(attempt 1 of 3\)$/);
    const peak = await peakRssMiB(d.proc.pid!);
    assert.ok(peak - before < 48, `peak RSS ${peak.toFixed(0)} MiB after ${before.toFixed(0)} MiB before`);
    assert.ok(leshan.faultBytesWritten() < 16 * 1024 * 1024, `the double wrote ${leshan.faultBytesWritten()} bytes`);
    // the store stays small: the next operations are created and listed at once
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await createOp(d, 'nobody', { kind: 'read', path: '/3/0/1' });
    assert.ok(performance.now() - t0 < 1000, `5 creates took ${performance.now() - t0} ms`);
  });

  it('content nested 100 000 deep is refused like an unexpected answer; the API keeps answering', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    leshan.fault(
      { kind: 'raw', body: `{"status":"CONTENT(205)","valid":true,"success":true,"failure":false,"content":${deep}}` },
      { match: (r) => r.path.startsWith('/deep1/') },
    );
    leshan.register({ endpoint: 'deep1', queueMode: false });
    await waitFor('deep1 online', async () => (await fetch(`${d.url}/api/endpoints/deep1`)).status === 200);
    const op = await createOp(d, 'deep1', { kind: 'read', path: '/3/0/1' });
    const done = await waitFor('the attempt recorded', async () => {
      const o = await getOp(d, op.id);
      return o.status !== 'SENDING' && o.attempts === 1 && o;
    });
    assert.equal(done.status, 'QUEUED');
    assert.equal(done.result, undefined);
    assert.match(done.error ?? '', /JSON nested deeper than 64 levels/);
    assert.equal((await fetch(`${d.url}/api/operations?ep=deep1`)).status, 200);
    // the same depth in an event's data is refused too
    const invalid = await invalidEvents(d);
    leshan.emit('NOTIFICATION', `{"ep":"deep1","kind":"single","res":"/3/0/1","val":${deep}}`, 'deep1');
    await waitFor('the deep event counted', async () => (await invalidEvents(d)) === invalid + 1);
    assert.equal(d.lines.filter(serious).length, 0, JSON.stringify(d.lines.filter(serious)).slice(0, 500));
  });

  it('event-stream endpoint names with a newline, a BEL or 300 000 characters are refused, counted and logged cut short', async () => {
    const invalid = await invalidEvents(d);
    leshan.emit('AWAKE', { ep: 'dev\n1' });
    leshan.emit('REGISTRATION', { endpoint: 'bell\u0007', registrationId: 'r1', registrationDate: 1, queuemode: false });
    leshan.emit('NOTIFICATION', {
      ep: 'L'.repeat(300_000),
      kind: 'single',
      res: '/3/0/1',
      val: { id: 1, kind: 'singleResource', type: 'STRING', value: 'v' },
    });
    leshan.register({ endpoint: 'good-after', queueMode: false });
    await waitFor('good-after online', async () => (await fetch(`${d.url}/api/endpoints/good-after`)).status === 200);
    await waitFor('three invalid events', async () => (await invalidEvents(d)) === invalid + 3);
    const listed = (await (await fetch(`${d.url}/api/endpoints`)).json()) as { items?: Array<{ ep: string }> } | Array<{ ep: string }>;
    const eps = (Array.isArray(listed) ? listed : (listed.items ?? [])).map((e) => e.ep);
    assert.ok(!eps.some((ep) => /[\u0000-\u001f]/.test(ep) || ep.length > 256), `endpoints: ${JSON.stringify(eps).slice(0, 300)}`);
    const warned = d.lines.filter((l) => l.message === 'Leshan event with an invalid endpoint name ignored');
    assert.ok(warned.length >= 1);
    for (const l of d.lines) assert.ok(JSON.stringify(l).length < 2000, `a log line of ${JSON.stringify(l).length} characters`);
  });

  it('fuzzed event-stream frames: the daemon keeps serving, never crashes, counts the invalid events', { timeout: 30_000 }, async () => {
    const KNOWN = ['REGISTRATION', 'UPDATED', 'DEREGISTRATION', 'AWAKE', 'SLEEPING', 'NOTIFICATION', 'SEND', 'REQUEST_RESPONSE'];
    const badName = fc.oneof(
      fc.constantFrom('dev\n1', 'bell\u0007', 'back\\slash', 'c1\u0085', 'x'.repeat(257), ''),
      fc
        .tuple(fc.string({ maxLength: 10 }), fc.integer({ min: 0, max: 0x1f }), fc.string({ maxLength: 10 }))
        .map(([a, c, b]) => a + String.fromCharCode(c) + b),
    );
    const anyName = fc.oneof(
      badName,
      fc.string({ maxLength: 20 }),
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.constant('y'.repeat(300)),
    );
    const node = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant({ id: 1, kind: 'singleResource', type: 'STRING', value: 'v' }));
    const withEp = (event: string, ep: string, extra: unknown): string => {
      switch (event) {
        case 'REGISTRATION':
        case 'DEREGISTRATION':
          return JSON.stringify({ endpoint: ep, registrationId: 'r', registrationDate: 1, queuemode: false });
        case 'UPDATED':
          return JSON.stringify({ registration: { endpoint: ep, registrationId: 'r', queuemode: true }, update: {} });
        case 'NOTIFICATION':
          return JSON.stringify({ ep, kind: 'single', res: '/3/0/1', val: extra });
        case 'SEND':
          return JSON.stringify({ ep, val: { '/3/0/1': extra } });
        case 'REQUEST_RESPONSE':
          return JSON.stringify({ ep, requestId: 'r', response: { status: 'CHANGED(204)', success: true } });
        default:
          return JSON.stringify({ ep });
      }
    };
    type Frame = { text: string; invalid: boolean };
    const frame: fc.Arbitrary<Frame> = fc.oneof(
      // a known event with a name the daemon must refuse: certainly invalid
      fc.tuple(fc.constantFrom(...KNOWN), badName, node).map(([e, ep, x]) => ({ text: sseFrame(e, withEp(e, ep, x)), invalid: true })),
      // a known event with data that is not JSON: certainly invalid
      fc
        .tuple(
          fc.constantFrom(...KNOWN),
          fc.string({ maxLength: 40 }).map((s) => `{${s}`),
        )
        .map(([e, data]) => ({ text: sseFrame(e, data), invalid: true })),
      // known or random event names, any endpoint name, any JSON or text
      fc
        .tuple(fc.constantFrom(...KNOWN, 'COAPLOG'), anyName, node)
        .map(([e, ep, x]) => ({ text: sseFrame(e, withEp(e, ep, x)), invalid: false })),
      fc
        .tuple(
          fc.oneof(
            fc.constantFrom(...KNOWN),
            fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)),
          ),
          fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 80 })),
        )
        .map(([e, data]) => ({ text: sseFrame(e, data), invalid: false })),
      // raw bytes: broken framing, stray fields, partial lines
      fc.string({ maxLength: 200 }).map((s) => ({ text: s, invalid: false })),
    );
    const before = await invalidEvents(d);
    let expected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 12 }), async (frames) => {
        // a blank line first: whatever a raw chunk left half-parsed is ended before the next frame
        leshan.emitRaw(frames.map((f) => `\r\n\r\n${f.text}`).join('') + '\r\n\r\n');
        expected += frames.filter((f) => f.invalid).length;
        const health = await fetch(`${d.url}/health`);
        assert.ok(health.status === 200 || health.status === 503, `health ${health.status}`);
        await health.text();
        assert.equal(d.proc.exitCode, null, 'the daemon is still running');
      }),
      { numRuns: 150 },
    );
    await waitFor(`at least ${expected} more invalid events`, async () => (await invalidEvents(d)) - before >= expected);
    // the stream is still followed: a normal registration still arrives
    leshan.register({ endpoint: 'after-fuzz', queueMode: false });
    await waitFor('after-fuzz online', async () => (await fetch(`${d.url}/api/endpoints/after-fuzz`)).status === 200);
    assert.equal(d.lines.filter(serious).length, 0, JSON.stringify(d.lines.filter(serious)).slice(0, 1000));
  });

  it(
    'a line that never ends: each stream cut at maxResponseBytes, reconnected with growing backoff, memory bounded',
    { timeout: 20_000 },
    async () => {
      const before = await rssMiB(d.proc.pid!);
      const lost = (): LogLine[] =>
        d.lines.filter((l) => l.message === 'Leshan event stream lost; reconnecting' && /without a line end/.test(String(l.reason)));
      leshan.streamFault({ kind: 'endlessLine', chunkBytes: 64 * 1024, everyMs: 2 });
      leshan.emitRaw('z'.repeat(1_100_000)); // the open stream gets its own endless line and is cut: reconnects into the fault
      await waitFor('four endless streams cut', () => lost().length >= 4, 15_000);
      const caps = lost()
        .slice(0, 4)
        .map((l) => l.backoffMs);
      assert.deepEqual(caps, [500, 1000, 2000, 4000], 'the backoff grows: bytes without a line never reset it');
      const peak = await peakRssMiB(d.proc.pid!);
      assert.ok(peak - before < 48, `peak RSS ${peak.toFixed(0)} MiB after ${before.toFixed(0)} MiB before`);
      leshan.streamFault(undefined);
      assert.equal(d.proc.exitCode, null);
      assert.equal((await fetch(`${d.url}/health`)).status === 500, false);
    },
  );
});

describe('SIGTERM while Leshan drips an answer (real daemon process)', () => {
  it(
    'exits 0 within a few seconds; the store is closed (the operation QUEUED again) and the InfluxDB writer flushed',
    { timeout: 30_000 },
    async () => {
      const leshan = await leshanDouble();
      const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-hostile-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      // points stay in memory until the stop (flush interval of a minute): only the stop can write them
      const influx = { url: 'http://127.0.0.1:9', flushIntervalMs: 60_000 };
      const first = await daemon({ dataDir, config: { leshan: { url: leshan.url, ingress: 'events' }, influx } });
      await first.waitForLine((l) => l.message === "reconciled with Leshan's registrations");
      leshan.fault({ kind: 'drip', everyMs: 3000 }, { match: (r) => r.method === 'PUT' });
      leshan.register({ endpoint: 'dev1', queueMode: false });
      await waitFor('dev1 online', async () => (await fetch(`${first.url}/api/endpoints/dev1`)).status === 200);
      leshan.notify('dev1', '/3303/0/5700', { id: 5700, kind: 'singleResource', type: 'FLOAT', value: 21.5 });
      const op = await createOp(first, 'dev1', { kind: 'write', path: '/3/0/14', value: '+02:00' });
      await waitFor('the write at Leshan', () => leshan.requests.some((r) => r.method === 'PUT'));
      assert.equal((await getOp(first, op.id)).status, 'SENDING');

      const exit = await first.signal('SIGTERM');
      assert.deepEqual([exit.code, exit.signal], [0, null], first.stderr());
      assert.ok(exit.ms < 6000, `exit took ${exit.ms} ms`);
      assert.ok(first.lines.some((l) => l.message === 'stopped'));
      assert.ok(
        first.lines.some((l) => /still in flight after 3000 ms at stop: aborted/.test(String(l.message))),
        'the drain waited, then aborted',
      );
      assert.ok(!first.lines.some((l) => l.message === 'stop failed'), JSON.stringify(first.lines.filter((l) => l.level === 'error')));
      // the writer flushed at stop: InfluxDB being unreachable, the point went to the spool on disk
      const spoolDir = path.join(dataDir, 'influx-spool');
      const spooled = (await Promise.all((await readdir(spoolDir)).map((f) => readFile(path.join(spoolDir, f), 'utf8')))).join('');
      assert.match(spooled, /^lwm2m,ep=dev1,.*obj=3303.* float=21\.5 \d+$/m);

      // restarted without the event stream (nothing is sent): the operation is QUEUED again, nothing lost
      const second = await daemon({ dataDir, config: { leshan: { url: leshan.url, ingress: 'posts' }, influx } });
      const again = await getOp(second, op.id);
      assert.equal(again.status, 'QUEUED', JSON.stringify(again));
      assert.ok(again.attempts <= 1);
      await second.signal('SIGTERM');
    },
  );
});

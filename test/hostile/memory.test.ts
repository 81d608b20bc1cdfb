/**
 * Names a device chooses must not grow memory without bound: a flood of made-up endpoint names (values
 * and registrations) against the real daemon process, whose registry is bounded by endpoints.maxKnown.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startController } from '../support/controllerHarness.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';

const MAX_KNOWN = 500;

async function metric(d: DaemonProcess, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (m) sum += Number(m[1]);
  }
  return sum;
}

const heapUsed = (d: DaemonProcess) => metric(d, /^nodejs_heap_size_used_bytes (\S+)$/);

/** Posts `bodies` to the Leshan route with a few requests at once; returns the status codes seen. */
async function postAll(d: DaemonProcess, route: string, bodies: unknown[], concurrency = 16): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(d.url + route, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

describe('hostile peer: endpoint names a device makes up', () => {
  let d: DaemonProcess | undefined;
  after(async () => {
    await d?.cleanup();
  });

  it('keeps the endpoint registry within endpoints.maxKnown under 8 000 made-up registrations, values from 2 000 more and 500 fuzzed names', async (t) => {
    d = await startDaemon({
      config: { leshan: { url: 'http://127.0.0.1:9' }, influx: { url: 'http://127.0.0.1:9' }, endpoints: { maxKnown: MAX_KNOWN } },
    });
    const registration = (ep: string) => ({
      ep,
      obj_id: 10240,
      val: { kind: 'singleResource', id: 0, type: 'TIME', value: 1732550000000 },
    });
    const value = (ep: string) => ({ ep, obj_id: 3303, val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '21.5' } });
    // warm up (JIT, pools), then measure from there
    await postAll(
      d,
      '/leshan_api/resource/single',
      Array.from({ length: 1000 }, (_, i) => registration(`warm-${i}`)),
    );
    const before = await heapUsed(d);

    const names = Array.from({ length: 8_000 }, (_, i) => `made-up-${i}-${Math.random().toString(36).slice(2)}`);
    const regs = await postAll(d, '/leshan_api/resource/single', names.map(registration));
    const vals = await postAll(
      d,
      '/leshan_api/resource/single',
      names.slice(0, 2000).map((n) => value(`${n}-v`)),
    );
    assert.deepEqual([...regs.keys()], [201]);
    assert.deepEqual([...vals.keys()], [201]);

    // fuzzed names: refused with a 4xx naming ep, or taken; never a 5xx
    const fuzzed = fc.sample(fc.string({ unit: 'binary', maxLength: 400 }), { numRuns: 500, seed: 42 });
    const fuzz = await postAll(d, '/leshan_api/resource/single', fuzzed.map(registration));
    for (const status of fuzz.keys()) assert.ok(status === 201 || status === 400, `status ${status}`);

    const known = await metric(d, /^lwm2m_backend_endpoints\{state="\w+"\} (\S+)$/);
    assert.ok(known <= MAX_KNOWN, `${known} endpoints remembered, bound ${MAX_KNOWN}`);
    const forgotten = await metric(d, /^lwm2m_backend_endpoints_forgotten_total\{reason="limit"\} (\S+)$/);
    assert.ok(forgotten >= 8_000 + 1000 - MAX_KNOWN, `forgotten (counted): ${forgotten}`);
    // heap used includes garbage here (no gc() in the daemon): shown, and bounded in-process below
    t.diagnostic(`heap used grew by ${(((await heapUsed(d)) - before) / 1048576).toFixed(1)} MiB (garbage included)`);
    assert.equal((await fetch(`${d.url}/health`)).status === 500, false, 'still serving');
  });

  it('retains under 4 MiB of heap for 8 000 made-up names (measured after gc, the daemon in this process)', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.ok(gc, 'run under node --expose-gc (npm test does)');
    const c = await startController({
      leshan: { url: 'http://127.0.0.1:9' },
      influx: { url: 'http://127.0.0.1:9' },
      endpoints: { maxKnown: MAX_KNOWN },
    });
    try {
      const target = { url: c.url } as DaemonProcess;
      const registration = (ep: string) => ({
        ep,
        obj_id: 10240,
        val: { kind: 'singleResource', id: 0, type: 'TIME', value: 1732550000000 },
      });
      await postAll(
        target,
        '/leshan_api/resource/single',
        Array.from({ length: 1000 }, (_, i) => registration(`warm-${i}`)),
      );
      gc();
      const before = process.memoryUsage().heapUsed;
      await postAll(
        target,
        '/leshan_api/resource/single',
        Array.from({ length: 8000 }, (_, i) => registration(`made-up-${i}-${Math.random()}`)),
      );
      gc();
      const retained = process.memoryUsage().heapUsed - before;
      assert.ok(retained < 4 * 1024 * 1024, `retained ${(retained / 1048576).toFixed(1)} MiB (8 000 awake actors would be ~50 MiB)`);
    } finally {
      await c.stop();
    }
  });
});

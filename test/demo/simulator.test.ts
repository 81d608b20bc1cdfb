import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import { FleetSimulator, type FleetEvent } from '../../demo/simulator.js';
import { parseLeshanEvent } from '../../src/leshan/events.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A small seeded PRNG, so that each run jitters the same way. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seen {
  event: string;
  data: Record<string, unknown>;
  raw: string;
  at: number;
}

/** Leshan's event stream as the daemon reads it (GET /api/event, Accept: text/event-stream). */
async function openEvents(leshan: LeshanDouble): Promise<{ events: Seen[]; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${leshan.url}/api/event`, { headers: { accept: 'text/event-stream' }, signal: ac.signal });
  assert.equal(res.status, 200);
  const events: Seen[] = [];
  const parser = createParser({
    onEvent: (m) =>
      events.push({ event: m.event ?? 'message', raw: m.data, data: JSON.parse(m.data) as Record<string, unknown>, at: Date.now() }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => ac.abort() };
}

const epOf = (e: Seen): unknown => e.data.ep ?? e.data.endpoint ?? (e.data.registration as { endpoint?: string } | undefined)?.endpoint;

async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('FleetSimulator against the Leshan double', () => {
  let leshan: LeshanDouble;
  let fleet: FleetSimulator | undefined;
  beforeEach(async () => {
    leshan = await startLeshanDouble({ heartbeatMs: 1000 });
  });
  afterEach(async () => {
    fleet?.stop();
    fleet = undefined;
    await leshan.close();
  });

  it('names the devices demo-sensor-01 ... and registers each in queue mode with the object links /1/0 /3/0 /3303/0 /5/0', async () => {
    assert.equal(new FleetSimulator(leshan).endpoints().length, 24, '24 devices by default');
    assert.equal(new FleetSimulator(leshan).endpoints().at(-1), 'demo-sensor-24');
    assert.deepEqual(new FleetSimulator(leshan, { devices: 120 }).endpoints().slice(0, 2), ['demo-sensor-001', 'demo-sensor-002']);
    assert.throws(() => new FleetSimulator(leshan, { devices: 0 }), RangeError);
    assert.throws(() => new FleetSimulator(leshan, { awakeMs: -5 }), RangeError);

    fleet = new FleetSimulator(leshan, { devices: 3, awakeMs: 150, asleepMs: 300 });
    assert.equal(leshan.isRegistered('demo-sensor-01'), false, 'nothing happens before start()');
    fleet.start();
    const list = (await (await fetch(`${leshan.url}/api/clients`)).json()) as { endpoint: string }[];
    assert.deepEqual(list.map((c) => c.endpoint).sort(), ['demo-sensor-01', 'demo-sensor-02', 'demo-sensor-03']);
    for (const ep of fleet.endpoints()) {
      const reg = (await (await fetch(`${leshan.url}/api/clients/${ep}`)).json()) as { queuemode: boolean; objectLinks: { url: string }[] };
      assert.equal(reg.queuemode, true, ep);
      assert.deepEqual(
        reg.objectLinks.map((l) => l.url),
        ['/', '/1/0', '/3/0', '/3303/0', '/5/0'],
        ep,
      );
    }
  });

  it('wakes each device with a registration update (AWAKE, UPDATED), then puts it to sleep (SLEEPING), on a jittered cycle; stop() stops it', async () => {
    const stream = await openEvents(leshan);
    await until(() => leshan.streamCount() === 1);
    const activity: FleetEvent[] = [];
    const lines: string[] = [];
    const awakeMs = 150;
    const asleepMs = 300;
    fleet = new FleetSimulator(leshan, {
      devices: 4,
      awakeMs,
      asleepMs,
      random: mulberry32(7),
      onActivity: (line, e) => {
        lines.push(line);
        activity.push(e);
      },
    });
    fleet.start();
    await sleep(2200);
    fleet.stop();
    await sleep(100);
    const stats = fleet.stats();
    const seenAtStop = stream.events.length;
    await sleep(3 * (awakeMs + asleepMs)); // several cycles: nothing may happen any more
    stream.close();
    assert.equal(stream.events.length, seenAtStop, 'no event after stop()');
    assert.deepEqual(fleet.stats(), stats, 'no activity after stop()');

    const firstWakes: number[] = [];
    for (const ep of fleet.endpoints()) {
      const presence = stream.events.filter((e) => epOf(e) === ep && ['AWAKE', 'REGISTRATION', 'UPDATED', 'SLEEPING'].includes(e.event));
      const names = presence.map((e) => e.event).join(' ');
      assert.match(names, /^AWAKE REGISTRATION( SLEEPING AWAKE UPDATED)+( SLEEPING)?$/, `${ep}: ${names}`);
      const updates = presence.filter((e) => e.event === 'UPDATED').length;
      assert.ok(updates >= 3 && updates <= 7, `${ep}: ${updates} updates in 2.2 s of a ~450 ms cycle`);
      assert.equal(stats.byDevice[ep]!.updates, updates, `${ep}: stats count the updates`);

      // the simulator's own timeline: registered, then sleep / wake in turn, with jittered durations
      const mine = activity.filter((e) => e.ep === ep && e.kind !== 'operation');
      assert.equal(mine[0]!.kind, 'registered');
      for (let i = 1; i < mine.length; i++) {
        const prev = mine[i - 1]!;
        const cur = mine[i]!;
        const ms = cur.at - prev.at;
        if (cur.kind === 'sleep') {
          const [lo, hi] = prev.kind === 'registered' ? [0.3 * awakeMs, awakeMs] : [0.85 * awakeMs, 1.15 * awakeMs];
          assert.ok(ms >= lo - 2 && ms <= hi + 80, `${ep}: awake for ${ms} ms, expected ${lo}-${hi}`);
        } else {
          assert.equal(cur.kind, 'wake', `${ep}: sleep and wake alternate`);
          assert.equal(prev.kind, 'sleep', `${ep}: sleep and wake alternate`);
          // the first sleep spreads the fleet over a cycle: 10-125 %; later ones 75-125 %
          const lo = i === 2 ? 0.1 * asleepMs : 0.75 * asleepMs;
          assert.ok(ms >= lo - 2 && ms <= 1.25 * asleepMs + 80, `${ep}: asleep for ${ms} ms (sleep ${i / 2})`);
        }
      }
      firstWakes.push(mine.find((e) => e.kind === 'wake')!.at);
      assert.equal(fleet.isAwake(ep), mine.at(-1)!.kind !== 'sleep');
    }
    assert.equal(new Set(firstWakes).size, firstWakes.length, 'no two devices wake at the same moment');
    assert.ok(
      Math.max(...firstWakes) - Math.min(...firstWakes) >= 30,
      `first wake-ups spread: ${firstWakes.map((t) => t - firstWakes[0]!)}`,
    );
    assert.equal(stats.updates, stream.events.filter((e) => e.event === 'UPDATED').length);
    assert.equal(stats.notifications, stream.events.filter((e) => e.event === 'NOTIFICATION').length);
    assert.ok(
      lines.some((l) => /^demo-sensor-0\d woke up: registration update, temperature \d+\.\d °C/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => /^demo-sensor-0\d went to sleep$/.test(l)));
  });

  it('notifies plausible temperatures (a random walk, 3303/0/5700) at each wake-up and sometimes a battery level (3/0/9)', async () => {
    const stream = await openEvents(leshan);
    await until(() => leshan.streamCount() === 1);
    fleet = new FleetSimulator(leshan, { devices: 3, awakeMs: 100, asleepMs: 150, random: mulberry32(42) });
    fleet.start();
    await sleep(1800);
    fleet.stop();
    await sleep(100);
    stream.close();
    const notifications = stream.events.filter((e) => e.event === 'NOTIFICATION');
    for (const n of notifications) {
      const parsed = parseLeshanEvent(n.event, n.raw);
      assert.ok(parsed && !('error' in parsed) && parsed.type === 'notification', `the daemon reads it: ${n.raw}`);
    }
    let batteries = 0;
    for (const ep of fleet.endpoints()) {
      const mine = notifications.filter((n) => n.data.ep === ep);
      const temps = mine
        .filter((n) => n.data.res === '/3303/0/5700')
        .map((n) => n.data.val as { id: number; kind: string; type: string; value: number });
      assert.equal(temps.length, 1 + fleet.stats().byDevice[ep]!.updates, `${ep}: one temperature at registration and at each wake-up`);
      for (const t of temps) {
        assert.deepEqual({ id: t.id, kind: t.kind, type: t.type }, { id: 5700, kind: 'singleResource', type: 'FLOAT' });
        assert.equal(typeof t.value, 'number');
        assert.ok(t.value >= 5 && t.value <= 35, `${ep}: ${t.value} °C`);
        assert.ok(Math.abs(t.value * 10 - Math.round(t.value * 10)) < 1e-9, `${ep}: one decimal: ${t.value}`);
      }
      for (let i = 1; i < temps.length; i++) {
        assert.ok(Math.abs(temps[i]!.value - temps[i - 1]!.value) <= 1.2, `${ep}: a walk, not jumps: ${temps.map((t) => t.value)}`);
      }
      assert.ok(new Set(temps.map((t) => t.value)).size >= 2, `${ep}: the temperature moves: ${temps.map((t) => t.value)}`);
      const levels = mine.filter((n) => n.data.res === '/3/0/9').map((n) => n.data.val as { id: number; type: string; value: number });
      for (const b of levels) {
        assert.equal(b.id, 9);
        assert.equal(b.type, 'INTEGER');
        assert.ok(Number.isInteger(b.value) && b.value >= 0 && b.value <= 100, `${ep}: battery ${b.value}`);
      }
      for (let i = 1; i < levels.length; i++)
        assert.ok(levels[i]!.value <= levels[i - 1]!.value, `${ep}: a battery does not charge itself`);
      assert.ok(levels.length < temps.length, `${ep}: the battery only sometimes`);
      batteries += levels.length;
      assert.equal(mine.length, temps.length + levels.length, `${ep}: nothing else is notified`);
    }
    assert.ok(batteries > 0, 'some battery levels');
  });

  it('answers a request that reaches a device while it is awake (after latencyMs) and counts it; a sleeping device gets nothing', async () => {
    const activity: FleetEvent[] = [];
    fleet = new FleetSimulator(leshan, { devices: 2, awakeMs: 600, asleepMs: 300, latencyMs: 150, onActivity: (_, e) => activity.push(e) });
    fleet.start();
    const ep = 'demo-sensor-02';
    await until(() => activity.some((e) => e.kind === 'wake' && e.ep === ep), 3000, 'a wake-up');
    const write = () =>
      fetch(`${leshan.url}/api/clients/${ep}/5/0/1?timeout=5`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 1, kind: 'singleResource', type: 'STRING', value: 'https://example.com/fw.bin' }),
      });
    const t0 = performance.now();
    const res = await write();
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'CHANGED(204)', valid: true, success: true, failure: false });
    assert.ok(elapsed >= 140, `answered after ${elapsed} ms`);
    await until(() => fleet!.stats().byDevice[ep]!.operations === 1, 2000, 'the operation counted');
    assert.equal(fleet.stats().operations, 1);
    assert.equal(fleet.stats().byDevice['demo-sensor-01']!.operations, 0);
    const received = activity.filter((e) => e.kind === 'operation');
    assert.deepEqual(
      received.map((e) => e.kind === 'operation' && [e.ep, e.op, e.path, e.value]),
      [[ep, 'write', '/5/0/1', 'https://example.com/fw.bin']],
    );

    const asleepSince = activity.length;
    await until(() => activity.slice(asleepSince).some((e) => e.kind === 'sleep' && e.ep === ep), 3000, 'sleep');
    const refused = await write();
    assert.equal(refused.status, 400, 'Leshan refuses a request to a sleeping device');
    await refused.arrayBuffer();
    await sleep(200);
    assert.equal(fleet.stats().byDevice[ep]!.operations, 1, 'nothing reached the sleeping device');
  });

  it('stop() leaves no timer behind: a process running a fleet exits by itself, and a fleet without onActivity prints nothing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/demo/fixtures/stopAndExit.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    clearTimeout(killer);
    assert.equal(signal, null, `the process had to be killed: it did not exit by itself; stdout: ${stdout}`);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const m = /^stopped (\{.*\})\n$/.exec(stdout);
    assert.ok(m, `only the fixture's own line: ${JSON.stringify(stdout)}`);
    const counts = JSON.parse(m[1]!) as { updates: number; notifications: number };
    assert.ok(counts.updates > 0 && counts.notifications > counts.updates, stdout);
  });
});

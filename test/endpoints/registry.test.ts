import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { EndpointRegistry } from '../../src/endpoints/registry.js';
import type { DeliveryOutput, DeliveryResult } from '../../src/endpoints/endpointMachine.js';
import { Registry } from 'prom-client';
import { testLogger } from '../support/config.js';

const AWAKE = 93_000;
const RETRY = 2_000;
const flush = () => new Promise((r) => setImmediate(r));

/** A registry on a simulated clock whose deliveries are answered by the test. */
function harness(queued: Record<string, number> = {}) {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const calls: { ep: string; at: number; answer(result: DeliveryResult, consume?: boolean): void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const registry = new EndpointRegistry({
    awakeMs: AWAKE,
    retryMs: RETRY,
    log: testLogger(),
    clock,
    hasQueued: (ep) => (queued[ep] ?? 0) > 0,
    deliverNext: (ep) =>
      new Promise<DeliveryOutput>((resolve) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        calls.push({
          ep,
          at: clock.now(),
          answer(result, consume = result === 'delivered') {
            if (consume) queued[ep] = (queued[ep] ?? 0) - 1;
            inFlight--;
            resolve({ result, at: clock.now() });
          },
        });
      }),
  });
  return { clock, registry, calls, queued, maxInFlight: () => maxInFlight };
}

describe('endpoint actors', () => {
  it('start offline and send nothing while offline', async () => {
    const h = harness({ dev: 2 });
    h.registry.workQueued('dev');
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'offline');
    assert.equal(h.calls.length, 0);
  });

  it('deliver on a registration update, one at a time, until the queue is empty', async () => {
    const h = harness({ dev: 3 });
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'sending');
    assert.equal(h.calls.length, 1);
    h.registry.workQueued('dev'); // more work while sending does not start a second send
    await flush();
    assert.equal(h.calls.length, 1);
    for (let i = 0; i < 3; i++) {
      h.calls[i]!.answer('delivered');
      await flush();
    }
    assert.equal(h.calls.length, 3);
    assert.equal(h.maxInFlight(), 1);
    assert.equal(h.registry.view('dev')?.state, 'online');
    assert.equal(h.registry.view('dev')?.lastEvent?.type, 'updated');
  });

  it('go offline when the awake window closes, and an update extends the window', async () => {
    const h = harness();
    h.registry.registrationEvent('dev', 'registered');
    h.clock.increment(60_000);
    assert.equal(h.registry.view('dev')?.state, 'online');
    h.registry.registrationEvent('dev', 'updated');
    h.clock.increment(60_000); // 120 s after registering, 60 s after the update
    assert.equal(h.registry.view('dev')?.state, 'online');
    h.clock.increment(AWAKE - 60_000);
    assert.equal(h.registry.view('dev')?.state, 'offline');
  });

  it('go offline at once on deregistration', async () => {
    const h = harness();
    h.registry.registrationEvent('dev', 'registered');
    h.registry.registrationEvent('dev', 'deregistered');
    assert.equal(h.registry.view('dev')?.state, 'offline');
    assert.equal(h.registry.view('dev')?.registered, false);
  });

  it('finish the send in flight when deregistered meanwhile, then stay offline', async () => {
    const h = harness({ dev: 2 });
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    h.registry.registrationEvent('dev', 'deregistered');
    assert.equal(h.registry.view('dev')?.state, 'sending');
    h.calls[0]!.answer('delivered');
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'offline');
    assert.equal(h.calls.length, 1, 'the rest waits for the next registration');
  });

  it('send an operation queued while awake at once', async () => {
    const h = harness({});
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    assert.equal(h.calls.length, 0);
    h.queued.dev = 1;
    h.registry.workQueued('dev');
    await flush();
    assert.equal(h.calls.length, 1);
  });

  it('pause the queue until the next wake when the device did not take an operation', async () => {
    const h = harness({ dev: 2 });
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    h.calls[0]!.answer('asleep');
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'offline');
    h.registry.workQueued('dev');
    h.clock.increment(10_000);
    await flush();
    assert.equal(h.calls.length, 1);
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    assert.equal(h.calls.length, 2);
  });

  it('retry after retryMs while awake when Leshan was unreachable', async () => {
    const h = harness({ dev: 1 });
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    h.calls[0]!.answer('unreachable');
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'online');
    h.clock.increment(RETRY - 1);
    await flush();
    assert.equal(h.calls.length, 1);
    h.clock.increment(1);
    await flush();
    assert.equal(h.calls.length, 2);
    assert.equal(h.calls[1]!.at - h.calls[0]!.at, RETRY);
  });

  it('survive a failing delivery step and try again later', async () => {
    const clock = new SimulatedClock();
    let attempts = 0;
    const registry = new EndpointRegistry({
      awakeMs: AWAKE,
      retryMs: RETRY,
      log: testLogger(),
      clock,
      hasQueued: () => attempts < 2,
      deliverNext: async () => {
        attempts++;
        if (attempts === 1) throw new Error('store on fire');
        return { result: 'delivered', at: clock.now() };
      },
    });
    registry.registrationEvent('dev', 'updated');
    await flush();
    assert.equal(attempts, 1);
    clock.increment(RETRY);
    await flush();
    assert.equal(attempts, 2);
    assert.equal(registry.view('dev')?.state, 'online');
  });

  it('keep endpoints apart and count them by state', async () => {
    const h = harness({ a: 1 });
    h.registry.registrationEvent('a', 'updated');
    h.registry.registrationEvent('b', 'registered');
    h.registry.registrationEvent('c', 'deregistered');
    await flush();
    assert.deepEqual(h.registry.countsByState(), { offline: 1, online: 1, sending: 1 });
    assert.deepEqual(
      h.registry.list().map((v) => v.ep),
      ['a', 'b', 'c'],
    );
  });

  it('stop the actors of offline endpoints and restore them, with what they knew, on the next event', async () => {
    const h = harness({ dev: 1 });
    h.registry.registrationEvent('dev', 'registered');
    h.registry.registrationEvent('idle', 'deregistered');
    await flush();
    assert.equal(h.registry.running, 1, 'only the awake endpoint runs an actor');
    assert.deepEqual(h.registry.view('idle'), {
      ep: 'idle',
      state: 'offline',
      registered: false,
      queueMode: true,
      lastEvent: { type: 'deregistered', at: new Date(1_000_000).toISOString() },
    });
    h.calls[0]!.answer('delivered');
    await flush();
    h.clock.increment(AWAKE);
    await flush();
    assert.equal(h.registry.running, 0);
    const before = h.registry.view('dev');
    assert.equal(before?.state, 'offline');
    assert.equal(before?.registered, true, 'a registered endpoint whose window closed is still registered');
    h.queued.dev = 1;
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    assert.equal(h.calls.length, 2, 'the restored actor delivers');
    assert.equal(h.registry.view('dev')?.lastEvent?.type, 'updated');
    assert.equal(h.registry.size, 2);
  });

  it('trust a wake-up that arrives while a send is timing out over the stale timeout', async () => {
    const h = harness({ dev: 1 });
    h.registry.registrationEvent('dev', 'updated');
    await flush();
    h.registry.registrationEvent('dev', 'updated'); // the device wakes again while the request is pending
    h.calls[0]!.answer('asleep', false);
    await flush();
    assert.equal(h.calls.length, 2, 'retried at once: the newer update says the device is awake');
    h.calls[1]!.answer('asleep', false);
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'offline', 'without a newer wake-up, the queue waits');
  });

  it("follows Leshan's AWAKE and SLEEPING exactly, with the window as the fallback", async () => {
    const h = harness({});
    h.registry.presence('dev', true);
    assert.equal(h.registry.view('dev')?.state, 'online');
    h.registry.presence('dev', false);
    assert.equal(h.registry.view('dev')?.state, 'offline', 'SLEEPING closes the window at once');
    h.registry.presence('dev', true);
    h.clock.increment(AWAKE);
    assert.equal(h.registry.view('dev')?.state, 'offline', 'no SLEEPING: the window still closes');
  });

  it('keeps an endpoint without queue mode reachable for as long as it is registered', async () => {
    const h = harness({});
    h.registry.registrationEvent('always', 'registered', false);
    h.clock.increment(AWAKE * 10);
    assert.equal(h.registry.view('always')?.state, 'online');
    assert.equal(h.registry.view('always')?.queueMode, false);
    h.registry.presence('always', false);
    assert.equal(h.registry.view('always')?.state, 'online', 'SLEEPING does not apply without queue mode');
    h.queued.always = 1;
    h.registry.workQueued('always');
    await flush();
    assert.equal(h.calls.length, 1, 'its operations go out at once, without waiting for an update');
    h.calls[0]!.answer('delivered');
    await flush();
    h.clock.increment(AWAKE * 3);
    assert.equal(h.registry.view('always')?.state, 'online', 'still reachable after a send outlasting the window');
    h.registry.registrationEvent('always', 'deregistered');
    assert.equal(h.registry.view('always')?.state, 'offline');
  });

  it('reconciles with what Leshan lists: a missed update still wakes the queue, a missed deregistration ends it', async () => {
    const h = harness({});
    h.registry.registrationEvent('dev', 'registered');
    h.clock.increment(AWAKE);
    await flush();
    assert.equal(h.registry.view('dev')?.state, 'offline');
    h.queued.dev = 1;
    h.registry.reconcile('dev', { registered: true, queueMode: true, awake: true });
    await flush();
    assert.equal(h.calls.length, 1, 'awake according to Leshan: the queue goes out');
    h.calls[0]!.answer('delivered');
    await flush();
    h.registry.reconcile('dev', { registered: false, queueMode: true, awake: false });
    assert.equal(h.registry.view('dev')?.state, 'offline');
    assert.equal(h.registry.view('dev')?.registered, false);
    assert.deepEqual(h.registry.registeredEndpoints(), []);
  });
});

describe('endpoint registry bounds', () => {
  function bounded(queued: Record<string, number>, options: { maxKnown?: number; forgetAfterMs?: number }) {
    const clock = new SimulatedClock();
    clock.set(1_000_000);
    const metrics = new Registry();
    const registry = new EndpointRegistry({
      awakeMs: AWAKE,
      retryMs: RETRY,
      log: testLogger(),
      clock,
      metrics,
      ...options,
      hasQueued: (ep) => (queued[ep] ?? 0) > 0,
      deliverNext: async () => ({ result: 'asleep', at: clock.now() }),
    });
    const forgotten = async (reason: string) =>
      (await metrics.getSingleMetric('lwm2m_backend_endpoints_forgotten_total')!.get()).values.find((v) => v.labels.reason === reason)
        ?.value ?? 0;
    return { clock, registry, forgotten };
  }

  it('stays within maxKnown: the longest-offline endpoint with nothing queued goes first, one with queued work never', async () => {
    const h = bounded({ 'keep-0': 1 }, { maxKnown: 3 });
    for (const ep of ['keep-0', 'old-1', 'old-2']) {
      h.registry.registrationEvent(ep, 'deregistered');
      h.clock.increment(1000);
      await flush();
    }
    assert.equal(h.registry.size, 3);
    h.registry.registrationEvent('new-3', 'registered');
    await flush();
    assert.deepEqual(
      h.registry.list().map((v) => v.ep),
      ['keep-0', 'new-3', 'old-2'],
      'old-1 (offline longest, nothing queued) forgotten; keep-0 kept',
    );
    assert.equal(await h.forgotten('limit'), 1);
    for (let i = 0; i < 50; i++) h.registry.registrationEvent(`flood-${i}`, 'registered');
    assert.equal(h.registry.size, 3, 'a flood of registrations stays within the bound (awake idle ones go too)');
    assert.ok(h.registry.has('keep-0'));
    assert.equal(await h.forgotten('limit'), 51);
  });

  it('forgets endpoints offline for forgetAfterMs with nothing queued', async () => {
    const h = bounded({ queued: 1 }, { forgetAfterMs: 3_600_000 });
    h.registry.registrationEvent('gone', 'deregistered');
    h.registry.registrationEvent('queued', 'deregistered');
    await flush();
    h.clock.increment(1_800_000);
    h.registry.registrationEvent('recent', 'deregistered');
    await flush();
    h.clock.increment(1_860_000);
    assert.deepEqual(
      h.registry.list().map((v) => v.ep),
      ['queued', 'recent'],
    );
    assert.equal(await h.forgotten('idle'), 1);
    h.registry.stop();
  });
});

describe('endpoint registry on the system clock', () => {
  it('is not kept awake by a backward step of the wall clock', async (t) => {
    const registry = new EndpointRegistry({
      awakeMs: 300,
      retryMs: RETRY,
      log: testLogger(),
      hasQueued: () => false,
      deliverNext: async () => ({ result: 'idle', at: 0 }),
    });
    t.after(() => registry.stop());
    const realNow = Date.now.bind(Date);
    registry.registrationEvent('dev', 'registered');
    t.mock.method(Date, 'now', () => realNow() - 3_600_000); // NTP or an operator steps the clock back an hour
    registry.registrationEvent('dev', 'updated');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(registry.view('dev')?.state, 'offline', 'the window closed after awakeMs, not an hour later');
  });
});

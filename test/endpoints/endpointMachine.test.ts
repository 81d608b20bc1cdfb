/**
 * The endpoint machine alone: fakes for its guard and its delivery actor, xstate's SimulatedClock for
 * its timers. One case per transition (the registry's tests cover the machine inside the registry).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { endpointMachine, type DeliveryOutput, type DeliveryResult, type EndpointEvent } from '../../src/endpoints/endpointMachine.js';

const AWAKE = 93_000;
const RETRY = 2_000;
const T0 = 1_000_000;
const flush = () => new Promise((r) => setImmediate(r));
/** An event as the test sends it: `at` defaults to the clock's time. */
type TestEvent = EndpointEvent extends infer E ? (E extends EndpointEvent ? Omit<E, 'at'> & { at?: number } : never) : never;

/** The machine with a queue the test fills and deliveries the test answers. */
function machine(options: { queued?: number; queueMode?: boolean; registered?: boolean } = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  let queued = options.queued ?? 0;
  const deliveries: { answer(result: DeliveryResult, at?: number, answered?: boolean): void; fail(): void }[] = [];
  const logic = endpointMachine.provide({
    guards: { hasQueued: () => queued > 0 },
    actors: {
      deliverNext: fromPromise<DeliveryOutput, { ep: string }>(
        () =>
          new Promise((resolve, reject) => {
            deliveries.push({
              answer: (result, at = clock.now(), answered = false) => {
                if (result === 'delivered') queued--;
                resolve({ result, at, answered });
              },
              fail: () => reject(new Error('delivery step failed')),
            });
          }),
      ),
    },
  });
  const actor = createActor(logic, {
    input: {
      ep: 'dev',
      awakeMs: AWAKE,
      retryMs: RETRY,
      ...(options.queueMode !== undefined && { queueMode: options.queueMode }),
      ...(options.registered !== undefined && { registered: options.registered }),
    },
    clock,
  }).start();
  const state = () => {
    const v = actor.getSnapshot().value;
    return typeof v === 'string' ? v : `online.${(v as { online: string }).online}`;
  };
  const send = (event: TestEvent) => actor.send({ at: clock.now(), ...event } as EndpointEvent);
  return {
    clock,
    actor,
    deliveries,
    state,
    send,
    context: () => actor.getSnapshot().context,
    queue: (n = 1) => void (queued += n),
  };
}

describe('endpoint machine: offline', () => {
  for (const type of ['endpoint.registered', 'endpoint.updated', 'endpoint.awake'] as const) {
    it(`${type} -> online, awake for awakeMs from the event`, () => {
      const m = machine();
      m.send({ type });
      assert.equal(m.state(), 'online.idle');
      assert.equal(m.context().awakeUntil, T0 + AWAKE);
    });
  }

  it('endpoint.registered records the registration and its queue mode', () => {
    const m = machine();
    m.send({ type: 'endpoint.registered', queueMode: false });
    assert.deepEqual([m.context().registered, m.context().queueMode, m.context().lastEvent], [true, false, { type: 'registered', at: T0 }]);
  });

  it('endpoint.deregistered stays offline and records it', () => {
    const m = machine({ registered: true });
    m.send({ type: 'endpoint.deregistered' });
    assert.equal(m.state(), 'offline');
    assert.equal(m.context().registered, false);
    assert.equal(m.context().lastEvent?.type, 'deregistered');
  });

  it('endpoint.sleeping and endpoint.work change nothing while offline', async () => {
    const m = machine({ queued: 1 });
    m.send({ type: 'endpoint.sleeping' });
    m.send({ type: 'endpoint.work' });
    await flush();
    assert.equal(m.state(), 'offline');
    assert.equal(m.deliveries.length, 0);
  });

  it('endpoint.reconciled: awake -> online; registered but asleep -> offline with the listed facts', () => {
    const m = machine();
    m.send({ type: 'endpoint.reconciled', registered: true, queueMode: true, awake: false });
    assert.equal(m.state(), 'offline');
    assert.equal(m.context().registered, true);
    m.send({ type: 'endpoint.reconciled', registered: true, queueMode: false, awake: true });
    assert.equal(m.state(), 'online.idle');
    assert.equal(m.context().queueMode, false);
  });
});

describe('endpoint machine: online', () => {
  it('the awake window closes after awakeMs -> offline', () => {
    const m = machine();
    m.send({ type: 'endpoint.updated' });
    m.clock.increment(AWAKE - 1);
    assert.equal(m.state(), 'online.idle');
    m.clock.increment(1);
    assert.equal(m.state(), 'offline');
  });

  it('a registered endpoint without queue mode re-enters online when the window runs out (alwaysReachable)', () => {
    const m = machine();
    m.send({ type: 'endpoint.registered', queueMode: false });
    m.clock.increment(AWAKE * 3);
    assert.equal(m.state(), 'online.idle');
  });

  for (const type of ['endpoint.registered', 'endpoint.updated', 'endpoint.awake'] as const) {
    it(`${type} re-enters online: the window restarts from the event`, () => {
      const m = machine();
      m.send({ type: 'endpoint.updated' });
      m.clock.increment(60_000);
      m.send({ type });
      assert.equal(m.context().awakeUntil, T0 + 60_000 + AWAKE);
      m.clock.increment(AWAKE - 1);
      assert.equal(m.state(), 'online.idle', 'the first window would have closed by now');
    });
  }

  it('endpoint.sleeping -> offline in queue mode (inQueueMode), ignored without it', () => {
    const m = machine();
    m.send({ type: 'endpoint.updated' });
    m.send({ type: 'endpoint.sleeping' });
    assert.equal(m.state(), 'offline');
    assert.equal(m.context().awakeUntil, T0);
    const n = machine();
    n.send({ type: 'endpoint.registered', queueMode: false });
    n.send({ type: 'endpoint.sleeping' });
    assert.equal(n.state(), 'online.idle');
  });

  it('endpoint.deregistered -> offline at once', () => {
    const m = machine();
    m.send({ type: 'endpoint.registered' });
    m.send({ type: 'endpoint.deregistered' });
    assert.equal(m.state(), 'offline');
    assert.equal(m.context().registered, false);
  });

  it('endpoint.reconciled: still awake re-enters online, not awake -> offline', () => {
    const m = machine();
    m.send({ type: 'endpoint.updated' });
    m.send({ type: 'endpoint.reconciled', registered: true, queueMode: true, awake: true });
    assert.equal(m.state(), 'online.idle');
    m.send({ type: 'endpoint.reconciled', registered: false, queueMode: true, awake: false });
    assert.equal(m.state(), 'offline');
  });

  it('idle with something queued -> sending at once (hasQueued on entry)', async () => {
    const m = machine({ queued: 1 });
    m.send({ type: 'endpoint.updated' });
    await flush();
    assert.equal(m.state(), 'sending');
    assert.equal(m.deliveries.length, 1);
  });

  it('idle: endpoint.work with something queued -> sending; without -> stays idle', async () => {
    const m = machine();
    m.send({ type: 'endpoint.updated' });
    m.send({ type: 'endpoint.work' });
    assert.equal(m.state(), 'online.idle');
    m.queue();
    m.send({ type: 'endpoint.work' });
    await flush();
    assert.equal(m.state(), 'sending');
  });

  it('backoff -> idle after retryMs (and on to sending when something is queued)', async () => {
    const m = machine({ queued: 1 });
    m.send({ type: 'endpoint.updated' });
    await flush();
    m.deliveries[0]!.answer('unreachable');
    await flush();
    assert.equal(m.state(), 'online.backoff');
    m.clock.increment(RETRY - 1);
    assert.equal(m.state(), 'online.backoff');
    m.clock.increment(1);
    await flush();
    assert.equal(m.state(), 'sending');
    assert.equal(m.deliveries.length, 2);
  });
});

describe('endpoint machine: sending', () => {
  async function sending(options: { queued?: number } = {}) {
    const m = machine({ queued: options.queued ?? 1 });
    m.send({ type: 'endpoint.updated' });
    await flush();
    assert.equal(m.state(), 'sending');
    return m;
  }

  it('the device answered (deviceAnswered) -> online, awake for awakeMs from the answer (Leshan restarts its timer)', async () => {
    const m = await sending({ queued: 1 });
    m.clock.increment(AWAKE - 1000); // the window would close a second from now
    m.deliveries[0]!.answer('delivered', m.clock.now(), true);
    await flush();
    assert.equal(m.state(), 'online.idle');
    assert.equal(m.context().awakeUntil, T0 + AWAKE - 1000 + AWAKE);
    m.clock.increment(AWAKE - 1);
    assert.equal(m.state(), 'online.idle', 'still awake past the first window');
  });

  it('asleep (answeredAsleep) -> offline, the window closed at the answer', async () => {
    const m = await sending();
    m.clock.increment(5000);
    m.deliveries[0]!.answer('asleep');
    await flush();
    assert.equal(m.state(), 'offline');
    assert.equal(m.context().awakeUntil, T0 + 5000);
  });

  it('asleep, but a wake-up came while sending (markWoke) -> online, and the queue goes on', async () => {
    const m = await sending();
    m.send({ type: 'endpoint.updated' });
    m.deliveries[0]!.answer('asleep');
    await flush();
    assert.equal(m.state(), 'sending', 'the newer update says the device is awake: tried again');
    assert.equal(m.deliveries.length, 2);
  });

  it('unreachable while awake (unreachableWhileAwake) -> online.backoff', async () => {
    const m = await sending();
    m.deliveries[0]!.answer('unreachable');
    await flush();
    assert.equal(m.state(), 'online.backoff');
  });

  it('delivered while awake (stillAwake) -> online, then the next queued one', async () => {
    const m = await sending({ queued: 2 });
    m.deliveries[0]!.answer('delivered');
    await flush();
    assert.equal(m.state(), 'sending');
    m.deliveries[1]!.answer('delivered');
    await flush();
    assert.equal(m.state(), 'online.idle');
  });

  it('any answer after the window closed -> offline', async () => {
    const m = await sending({ queued: 2 });
    m.clock.increment(AWAKE + 1);
    assert.equal(m.state(), 'sending', 'one operation at a time: the request in flight finishes first');
    m.deliveries[0]!.answer('delivered');
    await flush();
    assert.equal(m.state(), 'offline');
  });

  it('a failing delivery step -> online.backoff, never wedged', async () => {
    const m = await sending();
    m.deliveries[0]!.fail();
    await flush();
    assert.equal(m.state(), 'online.backoff');
  });

  it('events while sending: an update moves the window, SLEEPING closes it, deregistration records it; the send goes on', async () => {
    const m = await sending();
    m.clock.increment(10_000);
    m.send({ type: 'endpoint.updated' });
    assert.equal(m.context().awakeUntil, T0 + 10_000 + AWAKE);
    assert.equal(m.context().wokeWhileSending, true);
    m.send({ type: 'endpoint.sleeping' });
    assert.equal(m.context().awakeUntil, T0 + 10_000);
    m.send({ type: 'endpoint.deregistered' });
    assert.equal(m.context().registered, false);
    assert.equal(m.state(), 'sending');
    m.send({ type: 'endpoint.reconciled', registered: true, queueMode: true, awake: true });
    assert.equal(m.context().registered, true);
    assert.equal(m.state(), 'sending');
  });
});

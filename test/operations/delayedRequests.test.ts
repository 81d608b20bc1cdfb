import { describe, it, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DelayedRequests } from '../../src/operations/delayedRequests.js';
import type { AttemptResult } from '../../src/leshan/responses.js';
import type { Operation } from '../../src/operations/operation.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator } from '../support/fleet.js';
import { testLogger } from '../support/config.js';

const op = (id: string, ep = 'dev'): Operation =>
  ({ id, ep, kind: 'write', path: '/1/0/1', status: 'SENDING', attempts: 1, createdAt: '', updatedAt: '' }) as Operation;

function harness() {
  const applied: { id: string; attempt: AttemptResult }[] = [];
  const settled: string[] = [];
  const delayed = new DelayedRequests({
    apply: async (o, attempt) => {
      applied.push({ id: o.id, attempt });
      return 'delivered';
    },
    settled: (ep) => settled.push(ep),
    answerWaitMs: 15_000,
    log: testLogger(),
  });
  return { delayed, applied, settled };
}

describe('DelayedRequests', () => {
  it('settles a held operation from its REQUEST_RESPONSE, as Leshan reported the device answer', async () => {
    const h = harness();
    await h.delayed.hold(op('1'), 'r-1');
    assert.equal(h.applied.length, 0, 'a delayed answer settles nothing');
    assert.equal(await h.delayed.response('r-1', { status: 'CHANGED(204)', valid: true, success: true, failure: false }), true);
    assert.equal(h.applied[0]?.attempt.kind, 'confirmed');
    assert.deepEqual(h.settled, ['dev']);
    assert.equal(await h.delayed.response('r-1', {}), false, 'answered once');
    await h.delayed.hold(op('2'), 'r-2');
    await h.delayed.response('r-2', { status: 'NOT_FOUND(404)', valid: true, success: false, failure: true });
    assert.equal(h.applied[1]?.attempt.kind, 'deviceError');
  });

  it('gives back an older request that Leshan replaced by a newer one for the same device', async () => {
    const h = harness();
    await h.delayed.hold(op('1'), 'r-1');
    await h.delayed.hold(op('2'), 'r-2');
    assert.equal(h.applied.length, 1);
    assert.equal(h.applied[0]?.id, '1');
    assert.equal(h.applied[0]?.attempt.kind, 'notDelivered');
    assert.match((h.applied[0]?.attempt as { message: string }).message, /newer request/);
    assert.equal(h.delayed.size, 1);
  });

  it('gives a request back when no answer follows the AWAKE, or when the device deregisters', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const h = harness();
      await h.delayed.hold(op('1', 'a'), 'r-a');
      await h.delayed.hold(op('2', 'b'), 'r-b');
      h.delayed.awake('a');
      mock.timers.tick(14_999);
      assert.equal(h.applied.length, 0);
      mock.timers.tick(1);
      await new Promise((r) => setImmediate(r));
      assert.equal(h.applied[0]?.id, '1');
      assert.match((h.applied[0]?.attempt as { message: string }).message, /no answer/);
      await h.delayed.deregistered('b');
      assert.equal(h.applied[1]?.id, '2');
      assert.equal(h.delayed.size, 0);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('a Leshan that queues requests itself (2.0.0-M17 and later)', () => {
  let leshan: LeshanDouble;
  let d: RunningController;
  before(async () => {
    leshan = await startLeshanDouble({ mode: 'LM', heartbeatMs: 100 });
    d = await startController({ leshan: { url: leshan.url, ingress: 'events' }, influx: { url: 'http://127.0.0.1:9' } });
    await until(() => leshan.streamCount() === 1);
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
  });

  it('never confirms the delayed answer: the operation is settled by REQUEST_RESPONSE', async () => {
    const api = operator(d);
    leshan.register({ endpoint: 'lm', queueMode: true });
    leshan.sleep('lm');
    await until(async () => (await api.call('GET', '/api/endpoints/lm')).body?.state === 'offline');
    const created = (await api.queue('lm', { kind: 'write', path: '/1/0/1', value: 45 })).body as Operation;
    leshan.emit('AWAKE', { ep: 'lm' }); // the daemon hears AWAKE, but Leshan still has the device asleep
    await until(() => leshan.requests.some((r) => r.op === 'write' && r.requestId !== undefined));
    await new Promise((r) => setTimeout(r, 100));
    const waiting = (await api.get(created.id)).body as Operation;
    assert.equal(waiting.status, 'SENDING', 'Leshan only queued it');
    leshan.wake('lm');
    await until(async () => ((await api.get(created.id)).body as Operation).status === 'CONFIRMED');
    const done = (await api.get(created.id)).body as Operation;
    assert.equal(done.attempts, 1);
    assert.equal(done.result?.status, 'CHANGED(204)');
  });
});

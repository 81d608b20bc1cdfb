/**
 * The order of a delivery attempt against the store's SENDING write: a request safe to repeat leaves while
 * SENDING is being written, an execute or a delete only once it is on disk; the outcome is recorded only once
 * SENDING is on disk, and not at all when it could not be written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Delivery } from '../../../src/operations/delivery.js';
import type { Operation } from '../../../src/operations/operation.js';
import { testLogger } from '../../support/config.js';

function harness(kind: Operation['kind']) {
  const op: Operation = { id: '1', ep: 'dev', kind, path: '/3/0/4', status: 'QUEUED', attempts: 0, createdAt: '', updatedAt: '' };
  const events: string[] = [];
  let written!: { resolve(): void; reject(e: Error): void };
  const delivery = new Delivery({
    store: {
      nextQueued: () => op,
      get: () => op,
      markSending: () => (events.push('markSending'), { ...op, status: 'SENDING', attempts: 1 }),
      flush: () => new Promise<void>((resolve, reject) => (written = { resolve: () => (events.push('on disk'), resolve()), reject })),
      available: true,
      whenWritable: async () => {},
      settle: async (_id, patch) => (events.push(`settle ${patch.status}`), { ...op, status: patch.status }),
      expire: async () => op,
    },
    client: {
      send: async () => (events.push('sent'), { attempt: { kind: 'confirmed', result: { status: 'CHANGED(204)', code: 204 } }, ms: 1 }),
    },
    maxAttempts: 3,
    maxConcurrent: 1,
    now: Date.now,
    log: testLogger(),
    registry: new Registry(),
  });
  return { delivery, events, written: () => written };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('a delivery attempt and its SENDING write', () => {
  for (const kind of ['read', 'write', 'observe'] as const) {
    it(`sends a ${kind} while SENDING is being written, and records its outcome only once SENDING is on disk`, async () => {
      const h = harness(kind);
      const done = h.delivery.deliverNext('dev');
      await tick();
      assert.deepEqual(h.events, ['markSending', 'sent'], 'the answer is in, SENDING not yet on disk: nothing recorded');
      h.written().resolve();
      await done;
      assert.deepEqual(h.events, ['markSending', 'sent', 'on disk', 'settle CONFIRMED']);
    });
  }

  for (const kind of ['execute', 'delete'] as const) {
    it(`sends an ${kind} only once SENDING is on disk (it must not run twice after a crash)`, async () => {
      const h = harness(kind);
      const done = h.delivery.deliverNext('dev');
      await tick();
      assert.deepEqual(h.events, ['markSending']);
      h.written().resolve();
      await done;
      assert.deepEqual(h.events, ['markSending', 'on disk', 'sent', 'settle CONFIRMED']);
    });
  }

  it('records no outcome when SENDING could not be written (undone: the operation is QUEUED, sent again later)', async () => {
    const h = harness('write');
    const done = h.delivery.deliverNext('dev');
    await tick();
    h.written().reject(new Error('ENOSPC'));
    const out = await done;
    assert.equal(out.result, 'unreachable');
    assert.deepEqual(h.events, ['markSending', 'sent'], 'no settle');
  });
});

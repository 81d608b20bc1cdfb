import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { settle } from '../../src/operations/outcome.js';

const at = (attempts: number) => ({ attempts });

describe('settle (the outcome table)', () => {
  it('confirms success and keeps the result', () => {
    const result = { status: 'CONTENT(205)', code: 205, content: { id: 0, kind: 'singleResource', type: 'STRING', value: 'x' } };
    assert.deepEqual(settle(at(1), { kind: 'confirmed', result }, 3), {
      status: 'CONFIRMED',
      result,
      countAttempt: true,
      endpoint: 'delivered',
    });
  });

  it('fails at once on a device 4.xx and moves on to the next operation', () => {
    const s = settle(at(1), { kind: 'deviceError', code: 405, result: { status: 'METHOD_NOT_ALLOWED(405)', code: 405 } }, 3);
    assert.equal(s.status, 'FAILED');
    assert.equal(s.endpoint, 'delivered');
    assert.match(s.error!, /METHOD_NOT_ALLOWED\(405\)/);
  });

  it('retries a device 5.xx like a timeout', () => {
    const s = settle(at(1), { kind: 'deviceError', code: 500, result: { status: 'INTERNAL_SERVER_ERROR(500)', code: 500 } }, 3);
    assert.equal(s.status, 'QUEUED');
    assert.equal(s.endpoint, 'asleep');
  });

  it('does not count a "sleeping" or "not registered" refusal as an attempt: nothing reached the device', () => {
    for (const reason of ['sleeping', 'notRegistered'] as const) {
      const attempt = { kind: 'notDelivered' as const, reason, httpStatus: 400, message: `m-${reason}` };
      for (const attempts of [1, 3]) {
        assert.deepEqual(
          settle(at(attempts), attempt, 3),
          { status: 'QUEUED', error: `m-${reason}`, countAttempt: false, endpoint: 'asleep' },
          `${reason} at ${attempts}`,
        );
      }
    }
  });

  it('requeues what was not delivered until maxAttempts, then fails, and pauses the queue', () => {
    for (const reason of ['timeout', 'serverError', 'other'] as const) {
      const attempt = { kind: 'notDelivered' as const, reason, httpStatus: 504, message: `m-${reason}` };
      const again = settle(at(2), attempt, 3);
      assert.equal(again.status, 'QUEUED', reason);
      assert.equal(again.endpoint, 'asleep');
      assert.equal(again.countAttempt, true);
      assert.equal(again.error, `m-${reason} (attempt 2 of 3)`);
      const last = settle(at(3), attempt, 3);
      assert.equal(last.status, 'FAILED', reason);
      assert.match(last.error!, /giving up/);
    }
  });

  it('fails an invalid request at once: repeating it cannot help', () => {
    const s = settle(at(1), { kind: 'notDelivered', reason: 'invalidRequest', httpStatus: 400, message: 'Invalid request: x' }, 3);
    assert.equal(s.status, 'FAILED');
    assert.equal(s.endpoint, 'delivered');
  });

  it('does not count an attempt that never reached Leshan', () => {
    const s = settle(at(3), { kind: 'unreachable', message: 'Leshan unreachable: ECONNREFUSED' }, 3);
    assert.deepEqual(
      s,
      { status: 'QUEUED', error: 'Leshan unreachable: ECONNREFUSED', countAttempt: false, endpoint: 'unreachable' },
      'the prefix once',
    );
  });

  it('fails an execute whose outcome is unknown rather than run it again', () => {
    const s = settle(at(1), { kind: 'notDelivered', reason: 'unknownOutcome', httpStatus: 0, message: 'connection lost' }, 3);
    assert.equal(s.status, 'FAILED');
    assert.equal(s.countAttempt, true);
    assert.equal(s.endpoint, 'unreachable');
  });

  it('never confirms a request Leshan only queued (delayed)', () => {
    const s = settle(at(1), { kind: 'delayed', requestId: 'abc' }, 3);
    assert.equal(s.status, 'QUEUED');
    assert.match(s.error!, /abc/);
  });
});

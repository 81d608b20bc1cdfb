/**
 * The firmware update machine alone: the test plays the driver (answers each request's operation, sends
 * what the device reports) and xstate's SimulatedClock stands for time. No I/O.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, SimulatedClock } from 'xstate';
import { firmwareMachine, type FirmwareEmitted, type FirmwareEvent } from '../../src/firmware/machine.js';
import type { FirmwareProgress, FirmwareRequestPurpose, FirmwareStep } from '../../src/firmware/update.js';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

type Request = Extract<FirmwareEmitted, { type: 'request' }>;

function update(
  options: { step?: FirmwareStep; attempts?: number; progress?: FirmwareProgress; maxRetries?: number; timeoutMs?: number } = {},
) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const actor = createActor(firmwareMachine, {
    clock,
    input: {
      step: options.step ?? 'observing',
      attempts: options.attempts ?? 0,
      progress: options.progress ?? { seq: 0 },
      version: '2.0',
      deadline: T0 + (options.timeoutMs ?? 3 * DAY),
      now: T0,
      maxRetries: options.maxRetries ?? 2,
    },
  });
  const requests: Request[] = [];
  const stops: Extract<FirmwareEmitted, { type: 'stop' }>[] = [];
  actor.on('request', (e) => void requests.push(e));
  actor.on('stop', (e) => void stops.push(e));
  actor.start();
  const send = (event: FirmwareEvent) => actor.send(event);
  const last = (): Request => requests.at(-1)!;
  /** Answers the last request: its operation CONFIRMED. */
  const confirm = (purpose: FirmwareRequestPurpose) => {
    const req = last();
    assert.equal(req.purpose, purpose, `expected a ${purpose} request, the last one is ${req.purpose}`);
    send({ type: 'fw.op', seq: req.seq, ok: true });
  };
  const ctx = () => actor.getSnapshot().context;
  return { actor, clock, requests, stops, send, last, confirm, ctx };
}

/** Observations made, the URI written: the device is downloading. */
function downloading(options: Parameters<typeof update>[0] = {}) {
  const u = update(options);
  u.confirm('observe_state');
  u.confirm('observe_result');
  u.confirm('write_uri');
  assert.equal(u.ctx().step, 'downloading');
  return u;
}

/** Downloaded, executed, registered again: the device is asked for 3/0/3. */
function verifying(u: ReturnType<typeof update>) {
  u.send({ type: 'fw.state', value: 2 });
  u.confirm('execute_update');
  u.send({ type: 'fw.registered' });
  assert.equal(u.ctx().step, 'verifying');
  assert.equal(u.last().purpose, 'read_version');
}

describe('firmware update machine', () => {
  it('succeeds across several sleep cycles: reads 5/0/3 at each wake until Downloaded, then executes and verifies 3/0/3', () => {
    const u = downloading();
    u.send({ type: 'fw.wake' });
    assert.equal(u.last().purpose, 'read_state');
    u.send({ type: 'fw.state', value: 1 }); // still downloading
    u.confirm('read_state');
    assert.equal(u.ctx().step, 'downloading');
    u.send({ type: 'fw.wake' });
    u.send({ type: 'fw.wake' }); // a second sign of life while the read is pending makes no second read
    assert.equal(u.requests.filter((r) => r.purpose === 'read_state').length, 2);
    u.send({ type: 'fw.state', value: 2 });
    assert.equal(u.ctx().step, 'updating');
    assert.equal(u.last().purpose, 'execute_update');
    u.send({ type: 'fw.op', seq: u.last().seq, ok: true });
    u.send({ type: 'fw.wake' });
    assert.equal(u.ctx().step, 'updating', 'only a registration ends the update step');
    u.send({ type: 'fw.registered' });
    assert.equal(u.ctx().step, 'verifying');
    u.send({ type: 'fw.version', value: '2.0' });
    assert.equal(u.ctx().status, 'SUCCEEDED');
    assert.equal(u.ctx().attempts, 1);
    assert.equal(u.actor.getSnapshot().status, 'done');
    // every request has its own number
    const seqs = u.requests.map((r) => r.seq);
    assert.equal(new Set(seqs).size, seqs.length);
  });

  it('learns Downloaded from a notification without any read', () => {
    const u = downloading();
    u.send({ type: 'fw.state', value: 1 });
    u.send({ type: 'fw.state', value: 2 });
    assert.equal(u.ctx().step, 'updating');
    assert.equal(u.requests.filter((r) => r.purpose === 'read_state').length, 0);
  });

  it('a download failure that cannot be retried is FAILED with the 5/0/5 result in words', () => {
    const u = downloading();
    u.send({ type: 'fw.result', value: 7 });
    assert.equal(u.ctx().status, 'FAILED');
    assert.equal(u.ctx().result, 'invalid URI (5/0/5 = 7)');
    assert.equal(u.requests.filter((r) => r.purpose === 'write_uri').length, 1);
  });

  it('an integrity failure writes the URI again, and the retry can succeed', () => {
    const u = downloading();
    u.send({ type: 'fw.result', value: 5 });
    assert.equal(u.ctx().step, 'writing_uri');
    assert.equal(u.ctx().attempts, 2);
    u.confirm('write_uri');
    assert.equal(u.ctx().step, 'downloading', 'the old result is not taken for the new download');
    verifying(u);
    u.send({ type: 'fw.version', value: '2.0' });
    assert.equal(u.ctx().status, 'SUCCEEDED');
  });

  it('connection losses are retried up to maxRetries, then FAILED', () => {
    const u = downloading({ maxRetries: 1 });
    u.send({ type: 'fw.result', value: 4 });
    u.confirm('write_uri');
    u.send({ type: 'fw.result', value: 4 });
    assert.equal(u.ctx().status, 'FAILED');
    assert.equal(u.ctx().result, 'connection lost during download (5/0/5 = 4)');
    assert.equal(u.ctx().attempts, 2);
  });

  it('Idle at a wake read means the download ended: 5/0/5 is read for the reason', () => {
    const u = downloading();
    u.send({ type: 'fw.wake' });
    u.send({ type: 'fw.state', value: 0 });
    u.confirm('read_state');
    assert.equal(u.last().purpose, 'read_result');
    u.send({ type: 'fw.result', value: 2 });
    assert.equal(u.ctx().status, 'FAILED');
    assert.match(u.ctx().result!, /not enough flash/);
  });

  it('a reboot that wipes 5/0/x still succeeds: 3/0/3 decides', () => {
    const u = downloading();
    u.send({ type: 'fw.state', value: 2 });
    u.confirm('execute_update');
    u.send({ type: 'fw.state', value: 0 });
    u.send({ type: 'fw.result', value: 0 });
    u.send({ type: 'fw.registered' });
    u.send({ type: 'fw.version', value: '2.0' });
    assert.equal(u.ctx().status, 'SUCCEEDED');
  });

  it('the same version after the reboot is FAILED, naming both versions', () => {
    const u = downloading();
    verifying(u);
    u.send({ type: 'fw.version', value: '1.0' });
    assert.equal(u.ctx().status, 'FAILED');
    assert.equal(u.ctx().result, 'version not changed: the device reports "1.0" in 3/0/3, expected "2.0"');
  });

  it('a failed read of 3/0/3 is made again at the next wake', () => {
    const u = downloading();
    verifying(u);
    u.send({ type: 'fw.op', seq: u.last().seq, ok: false, error: 'timeout' });
    const reads = () => u.requests.filter((r) => r.purpose === 'read_version').length;
    assert.equal(reads(), 1);
    u.send({ type: 'fw.wake' });
    assert.equal(reads(), 2);
    assert.equal(u.ctx().status, 'RUNNING');
  });

  it('the device refusing the execute is FAILED; an execute whose fate is unknown waits for the registration', () => {
    const refused = downloading();
    refused.send({ type: 'fw.state', value: 2 });
    refused.send({ type: 'fw.op', seq: refused.last().seq, ok: false, deviceAnswered: true, error: 'METHOD_NOT_ALLOWED(405)' });
    assert.equal(refused.ctx().status, 'FAILED');
    assert.match(refused.ctx().result!, /refused to execute 5\/0\/2.*405/);

    const unknown = downloading();
    unknown.send({ type: 'fw.state', value: 2 });
    unknown.send({ type: 'fw.op', seq: unknown.last().seq, ok: false, error: 'interrupted while sending' });
    unknown.send({ type: 'fw.registered' });
    assert.equal(unknown.ctx().step, 'verifying');
  });

  it('an execute lost after it was sent: a wake still Downloaded (no registration) makes it again', () => {
    const u = downloading();
    u.send({ type: 'fw.state', value: 2 });
    u.send({ type: 'fw.op', seq: u.last().seq, ok: false, error: 'interrupted while sending: the device may have run it' });
    u.send({ type: 'fw.wake' });
    assert.equal(u.last().purpose, 'read_state');
    const read = u.last().seq;
    u.send({ type: 'fw.state', value: 2 }); // the read's content comes before its outcome
    assert.equal(u.last().purpose, 'execute_update');
    assert.equal(u.requests.filter((r) => r.purpose === 'execute_update').length, 2);
    u.send({ type: 'fw.op', seq: read, ok: true });
    u.confirm('execute_update');
    u.send({ type: 'fw.registered' });
    assert.equal(u.ctx().step, 'verifying');

    const ran = downloading();
    ran.send({ type: 'fw.state', value: 2 });
    ran.send({ type: 'fw.op', seq: ran.last().seq, ok: false, error: 'interrupted while sending' });
    ran.send({ type: 'fw.wake' });
    ran.send({ type: 'fw.state', value: 3 }); // Updating: it did run
    assert.equal(ran.requests.filter((r) => r.purpose === 'execute_update').length, 1);
    ran.send({ type: 'fw.registered' });
    assert.equal(ran.ctx().step, 'verifying');
  });

  it('a writing of 5/0/1 that fails is FAILED', () => {
    const u = update();
    u.confirm('observe_state');
    u.confirm('observe_result');
    u.send({ type: 'fw.op', seq: u.last().seq, ok: false, deviceAnswered: true, error: 'device answered BAD_REQUEST(400)' });
    assert.equal(u.ctx().status, 'FAILED');
    assert.match(u.ctx().result!, /could not write the package URI/);
  });

  it('a device without object 5 is FAILED at the observation; an observation Leshan could not make is skipped', () => {
    const none = update();
    none.send({ type: 'fw.op', seq: none.last().seq, ok: false, deviceAnswered: true, error: 'NOT_FOUND(404)' });
    assert.equal(none.ctx().status, 'FAILED');

    const skipped = update();
    skipped.send({ type: 'fw.op', seq: skipped.last().seq, ok: false, error: 'expired' });
    assert.equal(skipped.last().purpose, 'observe_result');
  });

  it('registrations re-make both observations (untracked requests)', () => {
    const u = downloading();
    u.send({ type: 'fw.registered' });
    const untracked = u.requests.filter((r) => !r.track).map((r) => r.purpose);
    assert.deepEqual(untracked, ['observe_state', 'observe_result']);
    assert.equal(u.ctx().step, 'downloading');
  });

  for (const step of ['observing', 'writing_uri', 'downloading', 'updating', 'verifying'] as const) {
    it(`cancel in step ${step} is CANCELLED; the URI is cleared only once it may have reached the device`, () => {
      const u = update();
      const order = ['observing', 'writing_uri', 'downloading', 'updating', 'verifying'];
      if (order.indexOf(step) >= 1) {
        u.confirm('observe_state');
        u.confirm('observe_result');
      }
      if (order.indexOf(step) >= 2) u.confirm('write_uri');
      if (order.indexOf(step) >= 3) u.send({ type: 'fw.state', value: 2 });
      if (order.indexOf(step) >= 4) {
        u.confirm('execute_update');
        u.send({ type: 'fw.registered' });
      }
      assert.equal(u.ctx().step, step);
      u.send({ type: 'fw.cancel' });
      assert.equal(u.ctx().status, 'CANCELLED');
      assert.equal(u.ctx().step, step);
      assert.equal(u.stops.length, 1);
      assert.equal(u.stops[0]!.clear, step === 'writing_uri' || step === 'downloading');
      assert.deepEqual(u.stops[0]!.pending, u.ctx().progress.pending);
      u.send({ type: 'fw.state', value: 2 });
      assert.equal(u.ctx().status, 'CANCELLED', 'a final status stays');
    });
  }

  it('times out at its deadline, not before: FAILED naming the step', () => {
    const u = downloading({ timeoutMs: 2 * DAY });
    u.clock.increment(2 * DAY - 1);
    assert.equal(u.ctx().status, 'RUNNING');
    u.clock.increment(1);
    assert.equal(u.ctx().status, 'FAILED');
    assert.match(u.ctx().result!, /^timed out in step downloading/);
    assert.equal(u.stops[0]!.clear, true);
  });

  it('resumes at the stored step: the pending request comes again with its number, no new download is counted', () => {
    const u = update({ step: 'writing_uri', attempts: 1, progress: { seq: 3, pending: { purpose: 'write_uri', seq: 3 } } });
    assert.deepEqual(u.requests, [{ type: 'request', purpose: 'write_uri', seq: 3, track: true }]);
    assert.equal(u.ctx().attempts, 1);
    u.confirm('write_uri');
    assert.equal(u.ctx().step, 'downloading');

    const waiting = update({ step: 'downloading', attempts: 1, progress: { seq: 3 } });
    assert.deepEqual(waiting.requests, [], 'downloading without a pending read waits for a wake');
    const executed = update({ step: 'updating', attempts: 1, progress: { seq: 4, executed: true } });
    assert.deepEqual(executed.requests, [], 'an update already executed waits for the registration');
    executed.send({ type: 'fw.registered' });
    assert.equal(executed.ctx().step, 'verifying');
  });

  it('a resumed update times out at the deadline it had, counted from the restart', () => {
    const u = update({ step: 'downloading', attempts: 1, progress: { seq: 3 }, timeoutMs: 1000 });
    u.clock.increment(999);
    assert.equal(u.ctx().status, 'RUNNING');
    u.clock.increment(1);
    assert.equal(u.ctx().status, 'FAILED');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GroupedWriter } from '../../../src/operations/store/groupedWriter.js';

/** A write function the test completes by hand; records how many run at once and what each one saw. */
function manualWrites(state: { value: number }) {
  const calls: { snapshot: number; done(): void; fail(e: Error): void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const write = () =>
    new Promise<void>((resolve, reject) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const end = () => void running--;
      calls.push({ snapshot: state.value, done: () => (end(), resolve()), fail: (e) => (end(), reject(e)) });
    });
  return { write, calls, maxRunning: () => maxRunning };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupedWriter', () => {
  it('writes changes made in the same tick with one write', async () => {
    const state = { value: 0 };
    const w = manualWrites(state);
    const writer = new GroupedWriter(w.write, () => {});
    const acks = Array.from({ length: 5 }, () => (state.value++, writer.changed()));
    await tick();
    assert.equal(w.calls.length, 1);
    assert.equal(w.calls[0]!.snapshot, 5, 'the write saw all five changes');
    w.calls[0]!.done();
    await Promise.all(acks);
    assert.equal(writer.writes, 1);
    assert.equal(writer.dirty, false);
  });

  it('keeps one write in flight and groups what arrives meanwhile into the next single write', async () => {
    const state = { value: 0 };
    const w = manualWrites(state);
    const writer = new GroupedWriter(w.write, () => {});
    let firstAcked = false;
    state.value++;
    const first = writer.changed().then(() => void (firstAcked = true));
    await tick();
    assert.equal(w.calls.length, 1);
    const acked: number[] = [];
    for (let i = 0; i < 10; i++) {
      state.value++;
      void writer.changed().then(() => acked.push(i));
      await tick(); // changes spread over several ticks while the first write runs
    }
    assert.equal(w.calls.length, 1, 'no second write while the first is in flight');
    assert.equal(firstAcked, false, 'nothing acknowledged before its write is done');
    w.calls[0]!.done();
    await first;
    await tick();
    assert.equal(w.calls.length, 2, 'one write for the ten changes');
    assert.equal(w.calls[1]!.snapshot, 11);
    assert.deepEqual(acked, [], 'the second group waits for its own write');
    w.calls[1]!.done();
    await tick();
    assert.deepEqual(acked, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(w.maxRunning(), 1);
  });

  it('rejects the callers of a failed write, reports it, and flush() writes again', async () => {
    const state = { value: 0 };
    const w = manualWrites(state);
    const errors: unknown[] = [];
    const writer = new GroupedWriter(w.write, (e) => errors.push(e));
    const ack = writer.changed();
    const unawaited = writer.changed(); // like markSending: nobody waits, must not be an unhandled rejection
    void unawaited;
    await tick();
    w.calls[0]!.fail(new Error('ENOSPC'));
    await assert.rejects(ack, /ENOSPC/);
    assert.equal(errors.length, 1);
    assert.equal(writer.dirty, true);
    const flushed = writer.flush();
    await tick();
    assert.equal(w.calls.length, 2, 'flush retried the write');
    w.calls[1]!.done();
    await flushed;
    assert.equal(writer.dirty, false);
  });

  it('flush() waits for the write in flight and for the pending group, and does nothing when clean', async () => {
    const state = { value: 0 };
    const w = manualWrites(state);
    const writer = new GroupedWriter(w.write, () => {});
    await writer.flush();
    assert.equal(w.calls.length, 0);
    void writer.changed();
    await tick();
    void writer.changed(); // pending behind the first
    let flushed = false;
    const f = writer.flush().then(() => void (flushed = true));
    w.calls[0]!.done();
    await tick();
    assert.equal(flushed, false, 'the second change is not written yet');
    assert.equal(w.calls.length, 2);
    w.calls[1]!.done();
    await f;
    assert.equal(w.calls.length, 2, 'no extra write');
  });
});

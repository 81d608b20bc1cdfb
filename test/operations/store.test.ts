import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATION_STATUSES, type OperationStatus } from '../../src/operations/operation.js';
import { OperationStore, StoreClosedError, StoreConflictError, StoreNotFoundError } from '../../src/operations/store.js';
import type { LogSink } from '../../src/log/logger.js';
import { createLogger } from '../../src/log/logger.js';
import { manualClock, onDisk, openStore, T0, tempDir, write } from './store/helpers.js';

const iso = (t: number) => new Date(t).toISOString();

/** Counts by status computed the slow way, to check the incremental ones. */
function countAll(store: OperationStore): Record<OperationStatus, number> {
  const counts = Object.fromEntries(OPERATION_STATUSES.map((s) => [s, 0])) as Record<OperationStatus, number>;
  for (const op of store.list({ limit: 1e6 }).items) counts[op.status]++;
  return counts;
}

describe('OperationStore', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let store: OperationStore;
  const clock = manualClock();
  beforeEach(async () => {
    tmp = await tempDir();
    clock.set(T0);
    store = await openStore(tmp.file, { now: clock.now });
  });
  afterEach(async () => {
    await store.close();
    await tmp.cleanup();
  });

  it('takes a pino logger', () => {
    const log: LogSink = createLogger('silent');
    assert.ok(new OperationStore({ file: tmp.file, maxAttempts: 3, pruneAfterMs: 1, log }));
  });

  it('creates QUEUED operations with increasing ids and gets them back', async () => {
    const { operation: a, replayed } = await store.create({ ...write('dev-a', 1), expiresAt: iso(T0 + 1000) });
    clock.advance(5);
    const { operation: b } = await store.create({ ep: 'dev-b', kind: 'execute', path: '/3/0/4', args: "0='v1'" });
    assert.equal(replayed, false);
    assert.deepEqual(a, {
      id: '1',
      ep: 'dev-a',
      kind: 'write',
      path: '/5/0/1',
      value: 'https://x/fw-1.bin',
      type: 'STRING',
      status: 'QUEUED',
      attempts: 0,
      createdAt: iso(T0),
      updatedAt: iso(T0),
      expiresAt: iso(T0 + 1000),
    });
    assert.deepEqual(b, {
      id: '2',
      ep: 'dev-b',
      kind: 'execute',
      path: '/3/0/4',
      args: "0='v1'",
      status: 'QUEUED',
      attempts: 0,
      createdAt: iso(T0 + 5),
      updatedAt: iso(T0 + 5),
    });
    assert.equal(store.get('1'), a);
    assert.deepEqual(store.get('2'), b);
    assert.equal(store.get('3'), undefined);
    assert.equal(store.get('x1'), undefined);
    assert.equal(store.get('01'), undefined);
    assert.deepEqual(store.list({ limit: 1, after: '0' }).items, [a]);
    assert.throws(() => ((a as { status: string }).status = 'FAILED'), TypeError, 'operations are frozen');
  });

  it('keeps its own copy of a value', async () => {
    const value = { 0: 'a', 1: 'b' };
    const { operation } = await store.create({ ep: 'd', kind: 'write', path: '/1/0/7', value });
    value[0] = 'changed';
    assert.deepEqual(store.get(operation.id)!.value, { 0: 'a', 1: 'b' });
    assert.deepEqual((await onDisk(tmp.file)).operations[0]!.value, { 0: 'a', 1: 'b' });
  });

  it('lists in ascending id order, by pages, with ep and status filters', async () => {
    for (let i = 0; i < 25; i++) await store.create(write(i % 2 ? 'odd' : 'even', i));
    await store.cancel('3');
    await store.cancel('4');
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = store.list({ limit: 10, ...(after && { after }) });
      pages.push(page.items.map((o) => o.id));
      after = page.next;
    } while (after);
    assert.deepEqual(
      pages.map((p) => p.length),
      [10, 10, 5],
    );
    assert.deepEqual(
      pages.flat(),
      Array.from({ length: 25 }, (_, i) => String(i + 1)),
    );
    assert.equal(store.list({ limit: 25 }).next, undefined, 'no next when the page holds the rest exactly');
    assert.equal(store.list({ limit: 24 }).next, '24');

    const odd = store.list({ ep: 'odd', limit: 100 }).items;
    assert.deepEqual(
      odd.map((o) => o.id),
      ['2', '4', '6', '8', '10', '12', '14', '16', '18', '20', '22', '24'],
    );
    const oddPage = store.list({ ep: 'odd', limit: 5, after: '4' });
    assert.deepEqual(
      oddPage.items.map((o) => o.id),
      ['6', '8', '10', '12', '14'],
    );
    assert.equal(oddPage.next, '14');
    assert.deepEqual(
      store.list({ statuses: new Set(['CANCELLED'] as const), limit: 10 }).items.map((o) => o.id),
      ['3', '4'],
    );
    assert.deepEqual(
      store.list({ ep: 'odd', statuses: new Set(['CANCELLED'] as const), limit: 10 }).items.map((o) => o.id),
      ['4'],
    );
    assert.deepEqual(store.list({ ep: 'even', statuses: new Set(['QUEUED'] as const), limit: 2, after: '1' }), {
      items: [store.get('5'), store.get('7')],
      next: '7',
    });
    assert.deepEqual(store.list({ ep: 'nobody', limit: 10 }), { items: [] });
    assert.throws(() => store.list({ limit: 0 }), RangeError);
    assert.throws(() => store.list({ limit: 10, after: 'abc' }), RangeError);
  });

  it('lists one endpoint through its own index, not by scanning every operation', async () => {
    await store.close();
    const ops = Array.from({ length: 50_000 }, (_, i) => ({
      id: String(i + 1),
      ep: i === 49_990 ? 'rare' : 'busy',
      kind: 'read',
      path: '/3/0',
      status: 'CONFIRMED',
      attempts: 1,
      createdAt: iso(T0),
      updatedAt: iso(T0),
    }));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(tmp.file, JSON.stringify({ version: 1, nextId: 50_001, operations: ops }));
    store = await openStore(tmp.file, { now: clock.now });
    const time = (fn: () => unknown) => {
      const t = performance.now();
      for (let i = 0; i < 100; i++) fn();
      return performance.now() - t;
    };
    const byEp = time(() => assert.equal(store.list({ ep: 'rare', statuses: new Set(['QUEUED'] as const), limit: 10 }).items.length, 0));
    const scanAll = time(() => assert.equal(store.list({ statuses: new Set(['QUEUED'] as const), limit: 10 }).items.length, 0));
    assert.ok(byEp * 20 < scanAll, `ep filter ${byEp.toFixed(2)} ms vs full scan ${scanAll.toFixed(2)} ms`);
  });

  it('replays an idempotency key per endpoint without writing', async () => {
    const first = await store.create({ ...write('dev-a', 1), idempotencyKey: 'k1' });
    const writes = store.writeCount;
    const again = await store.create({ ...write('dev-a', 2), idempotencyKey: 'k1' });
    assert.deepEqual(again, { operation: first.operation, replayed: true });
    assert.equal(store.writeCount, writes, 'a replay writes nothing');
    const otherEp = await store.create({ ...write('dev-b', 1), idempotencyKey: 'k1' });
    assert.equal(otherEp.replayed, false);
    assert.equal(otherEp.operation.id, '2');
    await store.close();
    store = await openStore(tmp.file, { now: clock.now });
    const afterReopen = await store.create({ ...write('dev-a', 3), idempotencyKey: 'k1' });
    assert.equal(afterReopen.replayed, true);
    assert.equal(afterReopen.operation.id, '1');
  });

  it('gives each endpoint its queued operations oldest first', async () => {
    await store.create(write('a', 1)); // 1
    await store.create(write('b', 1)); // 2
    await store.create(write('a', 2)); // 3
    await store.create(write('a', 3)); // 4
    await store.create(write('c', 1)); // 5
    assert.equal(store.nextQueued('a')?.id, '1');
    assert.equal(store.nextQueued('b')?.id, '2');
    assert.equal(store.nextQueued('nobody'), undefined);
    assert.equal(store.queuedCount('a'), 3);
    store.markSending('1');
    assert.equal(store.nextQueued('a')?.id, '3', 'a SENDING operation is not queued');
    assert.equal(store.queuedCount('a'), 2);
    await store.settle('1', { status: 'QUEUED', error: 'timeout' });
    assert.equal(store.nextQueued('a')?.id, '1', 'back at the head after a failed attempt');
    await store.cancel('3');
    assert.deepEqual([store.nextQueued('a')?.id, store.queuedCount('a')], ['1', 2]);
    store.markSending('5');
    await store.settle('5', { status: 'CONFIRMED' });
    assert.deepEqual(store.endpointsWithQueued().sort(), ['a', 'b']);
    assert.deepEqual(store.endpoints().sort(), ['a', 'b', 'c']);
    assert.equal(store.queuedCount('c'), 0);
  });

  it('markSending counts the attempt at once and settle applies every outcome', async () => {
    for (let i = 0; i < 7; i++) await store.create(write('d', i));
    clock.advance(1000);
    const sending = store.markSending('1');
    assert.ok(!(sending instanceof Promise), 'synchronous');
    assert.deepEqual(
      [sending.status, sending.attempts, sending.lastAttemptAt, sending.updatedAt],
      ['SENDING', 1, iso(T0 + 1000), iso(T0 + 1000)],
    );
    assert.throws(() => store.markSending('1'), StoreConflictError);
    assert.throws(() => store.markSending('99'), StoreNotFoundError);
    await store.flush();
    assert.equal((await onDisk(tmp.file)).operations[0]!.status, 'SENDING', 'written once flushed');

    clock.advance(10);
    const confirmed = await store.settle('1', { status: 'CONFIRMED', result: { status: 'CHANGED(204)', code: 204 } });
    assert.deepEqual(
      [confirmed.status, confirmed.attempts, confirmed.result, confirmed.updatedAt],
      ['CONFIRMED', 1, { status: 'CHANGED(204)', code: 204 }, iso(T0 + 1010)],
    );
    assert.equal(confirmed.error, undefined);

    store.markSending('2');
    const refused = await store.settle('2', {
      status: 'FAILED',
      result: { status: 'NOT_FOUND(404)', code: 404 },
      error: 'device refused: NOT_FOUND(404)',
    });
    assert.deepEqual([refused.status, refused.attempts, refused.error], ['FAILED', 1, 'device refused: NOT_FOUND(404)']);

    store.markSending('3');
    const late = await store.settle('3', { status: 'EXPIRED' });
    assert.equal(late.status, 'EXPIRED');

    store.markSending('4');
    const unreachable = await store.settle('4', { status: 'QUEUED', error: 'ECONNREFUSED', countAttempt: false });
    assert.deepEqual([unreachable.status, unreachable.attempts, unreachable.error], ['QUEUED', 0, 'ECONNREFUSED']);

    // maxAttempts is 3: two counted attempts requeue, the third fails
    for (const expected of [1, 2]) {
      store.markSending('5');
      const op = await store.settle('5', { status: 'QUEUED', error: 'Request timeout' });
      assert.deepEqual([op.status, op.attempts], ['QUEUED', expected]);
    }
    store.markSending('5');
    const exhausted = await store.settle('5', { status: 'QUEUED', error: 'Request timeout' });
    assert.deepEqual([exhausted.status, exhausted.attempts, exhausted.error], ['FAILED', 3, 'Request timeout; maxAttempts reached']);

    store.markSending('6');
    const retried = await store.settle('6', { status: 'QUEUED', error: 'timeout' });
    store.markSending('6');
    const ok = await store.settle('6', { status: 'CONFIRMED' });
    assert.deepEqual([retried.error, ok.error, ok.attempts], ['timeout', undefined, 2], 'a confirmation clears the last error');

    await assert.rejects(
      store.settle('7', { status: 'CONFIRMED' }),
      (e: Error) => e instanceof StoreConflictError && /QUEUED/.test(e.message),
    );
    store.markSending('7');
    await assert.rejects(store.settle('7', { status: 'CANCELLED' }), RangeError);
    await assert.rejects(store.settle('7', { status: 'SENDING' }), RangeError);
    await assert.rejects(store.settle('1', { status: 'QUEUED' }), StoreConflictError);
    await assert.rejects(store.settle('99', { status: 'QUEUED' }), StoreNotFoundError);

    assert.deepEqual(store.countsByStatus(), countAll(store));
    assert.deepEqual(store.countsByStatus(), { QUEUED: 1, SENDING: 1, CONFIRMED: 2, FAILED: 2, CANCELLED: 0, EXPIRED: 1 });
    await store.flush(); // 7 was marked SENDING without waiting
    const disk = await onDisk(tmp.file);
    assert.deepEqual(disk.operations, store.list({ limit: 100 }).items, 'the file holds exactly what the store says');
  });

  it('cancels and expires only QUEUED operations', async () => {
    for (let i = 0; i < 4; i++) await store.create(write('d', i));
    clock.advance(7);
    const cancelled = await store.cancel('1');
    assert.deepEqual([cancelled.status, cancelled.updatedAt], ['CANCELLED', iso(T0 + 7)]);
    assert.equal((await onDisk(tmp.file)).operations[0]!.status, 'CANCELLED', 'on disk when cancel resolves');
    await assert.rejects(store.cancel('1'), (e: Error) => e instanceof StoreConflictError && /CANCELLED/.test(e.message));
    store.markSending('2');
    await assert.rejects(store.cancel('2'), (e: Error) => e instanceof StoreConflictError && /SENDING/.test(e.message));
    await assert.rejects(store.cancel('42'), StoreNotFoundError);
    const expired = await store.expire('3');
    assert.equal(expired.status, 'EXPIRED');
    await assert.rejects(store.expire('3'), StoreConflictError);
    await assert.rejects(store.expire('2'), StoreConflictError);
    assert.deepEqual(store.countsByStatus(), { QUEUED: 1, SENDING: 1, CONFIRMED: 0, FAILED: 0, CANCELLED: 1, EXPIRED: 1 });
    const counts = store.countsByStatus();
    counts.QUEUED = 99;
    assert.equal(store.countsByStatus().QUEUED, 1, 'a copy');
  });

  it('prunes finished operations by age, and never reuses their ids', async () => {
    await store.close();
    store = await openStore(tmp.file, { now: clock.now, pruneAfterMs: 1000 });
    await store.create({ ...write('old', 1), idempotencyKey: 'k' }); // 1: cancelled at T0
    await store.create(write('old', 2)); // 2: stays QUEUED
    await store.create(write('new', 1)); // 3: cancelled at T0+600
    await store.create(write('new', 2)); // 4: SENDING since T0
    await store.create(write('new', 3)); // 5: cancelled at T0 + 600, the newest id
    await store.cancel('1');
    store.markSending('4');
    clock.advance(600);
    await store.cancel('3');
    await store.cancel('5');
    clock.advance(1000); // T0+1600: 1 is 1600 ms old, 3 and 5 are 1000 ms old (not older than pruneAfterMs)
    assert.equal(await store.prune(), 1);
    assert.equal(store.get('1'), undefined);
    clock.advance(1);
    assert.equal(await store.prune(), 2);
    assert.deepEqual(
      store.list({ limit: 10 }).items.map((o) => o.id),
      ['2', '4'],
    );
    assert.deepEqual(store.countsByStatus(), countAll(store));
    const writes = store.writeCount;
    assert.equal(await store.prune(), 0);
    assert.equal(store.writeCount, writes, 'nothing to prune, nothing written');
    assert.equal(
      (await store.create({ ...write('old', 3), idempotencyKey: 'k' })).replayed,
      false,
      'the key of a pruned operation is free',
    );
    await store.close();

    store = await openStore(tmp.file, { now: clock.now });
    assert.deepEqual(
      store.list({ limit: 10 }).items.map((o) => o.id),
      ['2', '4', '6'],
    );
    assert.deepEqual(store.endpoints().sort(), ['new', 'old']);
    assert.equal(store.get('4')?.status, 'QUEUED', 'left SENDING at close, requeued on open');
    await store.cancel('6');
    await store.cancel('2');
    await store.cancel('4');
    clock.advance(120_000);
    assert.equal(await store.prune(), 3);
    assert.deepEqual(store.endpoints(), [], 'an endpoint whose operations are all pruned is gone');
    await store.close();
    store = await openStore(tmp.file, { now: clock.now });
    assert.equal((await store.create(write('x', 1))).operation.id, '7', 'ids continue after every operation was pruned');
  });

  it('refuses changes before open and after close, and close waits for the last write', async () => {
    const unopened = new OperationStore({ file: tmp.file, maxAttempts: 3, pruneAfterMs: 1 });
    await assert.rejects(unopened.create(write('d', 1)), StoreClosedError);
    await store.create(write('d', 1));
    store.markSending('1'); // not awaited
    await store.close();
    assert.equal((await onDisk(tmp.file)).operations[0]!.status, 'SENDING', 'close flushed it');
    await assert.rejects(store.create(write('d', 2)), StoreClosedError);
    assert.throws(() => store.markSending('1'), StoreClosedError);
    await assert.rejects(store.cancel('1'), StoreClosedError);
    assert.equal(store.get('1')?.status, 'SENDING', 'reads still work');
  });
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { StoreUnavailableError, type OperationStore } from '../../../src/operations/store.js';
import { mountSmallDisk, type SmallDisk } from '../../support/smallDisk.js';
import { captureLog, onDisk, openStore, write } from './helpers.js';

describe('OperationStore on a full disk (a real tmpfs)', () => {
  let disk: SmallDisk;
  let store: OperationStore | undefined;
  before(async () => {
    disk = await mountSmallDisk(512);
  });
  after(async () => {
    await store?.close();
    await disk.unmount();
  });

  it('undoes and refuses what the disk did not take, refuses changes meanwhile, and takes them again once it does', async () => {
    const file = path.join(disk.dir, 'operations.json');
    const log = captureLog();
    const s = (store = await openStore(file, { log, retryWriteMs: 30 }));
    for (let i = 0; i < 3; i++) await s.create(write('dev', i));
    s.markSending('1');
    await s.flush();
    await disk.fill();

    // an append that fits in the journal's last, already allocated page still succeeds: create until one does not
    const acked: string[] = [];
    let refused: unknown;
    for (let i = 3; i < 100 && refused === undefined; i++) {
      await s.create(write('dev', i)).then(
        ({ operation }) => acked.push(operation.id),
        (e: unknown) => (refused = e),
      );
    }
    assert.ok(refused instanceof StoreUnavailableError && /ENOSPC/.test(refused.message), String(refused));
    assert.equal(s.size, 3 + acked.length, 'the refused create is not in memory');
    const refusedId = String(4 + acked.length);
    assert.equal(s.get(refusedId), undefined);
    assert.equal(s.available, false);
    assert.equal(s.status().ok, false);
    assert.match(s.status().error ?? '', /ENOSPC/);
    assert.ok(log.lines.some((l) => l.level === 'error' && /cannot write/.test(l.msg ?? '')));
    // every change is refused while the disk is full, before it touches memory
    assert.throws(() => s.markSending('2'), StoreUnavailableError);
    await assert.rejects(s.cancel('3'), StoreUnavailableError);
    await assert.rejects(s.settle('1', { status: 'CONFIRMED' }), StoreUnavailableError);
    assert.deepEqual(
      s.countsByStatus(),
      { QUEUED: 2 + acked.length, SENDING: 1, CONFIRMED: 0, FAILED: 0, CANCELLED: 0, EXPIRED: 0 },
      'memory is what the disk holds',
    );

    await disk.free();
    await s.whenWritable();
    assert.equal(s.available, true);
    const created = await s.create(write('dev', 3));
    assert.equal(created.operation.id, refusedId, 'the refused create used no id');
    await s.settle('1', { status: 'CONFIRMED' });
    const disk2 = await onDisk(file);
    assert.deepEqual(
      disk2.operations.map((o) => [o.id, o.status]),
      [['1', 'CONFIRMED'], ['2', 'QUEUED'], ['3', 'QUEUED'], ...acked.map((id) => [id, 'QUEUED']), [refusedId, 'QUEUED']],
    );
  });

  it('a change made while a failing write was in flight is undone and refused with it', async () => {
    const file = path.join(disk.dir, 'ops2.json');
    await store?.close();
    const before = await openStore(file);
    await before.create(write('a', 0));
    await before.close();
    // reopened: the next append starts a new journal segment, which needs a page the full disk does not have
    const s = (store = await openStore(file, { retryWriteMs: 30 }));
    await disk.fill();
    const first = s.create(write('a', 1)); // its write starts a microtask later
    await new Promise((r) => setImmediate(r));
    s.markSending('1'); // made on top of the create in flight
    const behind = s.flush();
    await assert.rejects(first, StoreUnavailableError);
    await assert.rejects(behind, StoreUnavailableError);
    assert.equal(s.get('1')?.status, 'QUEUED', 'the SENDING made behind the failed write is undone too');
    assert.equal(s.get('1')?.attempts, 0);
    assert.equal(s.size, 1);
    await disk.free();
    await s.whenWritable();
    await s.close();
    store = undefined;
    assert.deepEqual(
      (await onDisk(file)).operations.map((o) => [o.id, o.status]),
      [['1', 'QUEUED']],
    );
  });
});

import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { Low } from 'lowdb';
import { DurableFile } from '../../../src/operations/store/durableFile.js';
import { EMPTY_SECTION, StoreCodec, type StoreData } from '../../../src/operations/store/storeFile.js';
import { StoreCorruptError } from '../../../src/operations/store.js';
import { captureLog, onDisk, openStore, T0, storeEachTest, write } from './helpers.js';

const iso = (t: number) => new Date(t).toISOString();
const stored = (id: number, status: string, attempts: number, ep = 'dev') => ({
  id: String(id),
  ep,
  kind: 'write',
  path: '/5/0/1',
  value: 'x',
  status,
  attempts,
  createdAt: iso(T0),
  updatedAt: iso(T0),
});

describe('OperationStore durability', () => {
  const tmp = storeEachTest();

  it('has each change on disk when its promise resolves', async () => {
    const s = (tmp.store = await openStore(tmp.file));
    for (let i = 1; i <= 5; i++) {
      const { operation } = await s.create(write('d', i));
      const disk = await onDisk(tmp.file);
      assert.deepEqual(disk.operations.at(-1), operation);
      assert.equal(disk.nextId, i + 1);
    }
    s.markSending('2');
    await s.settle('2', { status: 'CONFIRMED' });
    assert.equal((await onDisk(tmp.file)).operations[1]!.status, 'CONFIRMED');
  });

  it('groups concurrent creates into few writes, all of them in the file', async () => {
    tmp.store = await openStore(tmp.file);
    const before = tmp.store.writeCount;
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => tmp.store!.create(write(`dev-${i % 7}`, i))));
    const writes = tmp.store.writeCount - before;
    assert.ok(writes >= 1 && writes <= 5, `${writes} writes for 200 creates`);
    assert.deepEqual(new Set(created.map((c) => c.operation.id)).size, 200);
    await tmp.store.close();
    tmp.store = await openStore(tmp.file);
    assert.equal(tmp.store.size, 200);
    for (const { operation } of created) assert.deepEqual(tmp.store.get(operation.id), operation);
  });

  it('writes through fsync of the file and of its directory, leaving no temp file', async () => {
    const probe = await open(tmp.file + '.probe', 'w');
    const proto = Object.getPrototypeOf(probe) as { sync(): Promise<void> };
    await probe.close();
    const sync = mock.method(proto, 'sync');
    try {
      const db = new Low<StoreData>(new DurableFile(tmp.file, new StoreCodec()), {
        version: 1,
        nextId: 1,
        seq: 0,
        operations: [],
        firmware: EMPTY_SECTION,
      });
      await db.write();
      assert.equal(sync.mock.callCount(), 2, 'temp file and directory');
    } finally {
      sync.mock.restore();
    }
    assert.deepEqual((await readdir(tmp.dir)).sort(), ['operations.json', 'operations.json.probe']);
    assert.deepEqual(JSON.parse(await readFile(tmp.file, 'utf8')), {
      version: 1,
      nextId: 1,
      seq: 0,
      operations: [],
      firmware: EMPTY_SECTION,
    });
  });

  it('recovers operations a crash left in SENDING', async () => {
    const ops = [
      stored(1, 'CONFIRMED', 1),
      stored(2, 'SENDING', 1),
      stored(3, 'SENDING', 3),
      stored(4, 'QUEUED', 0),
      stored(5, 'SENDING', 2, 'other'),
    ];
    await writeFile(tmp.file, JSON.stringify({ version: 1, nextId: 6, operations: ops }));
    const log = captureLog();
    tmp.store = await openStore(tmp.file, { log, now: () => T0 + 5000 });
    const status = (id: string) => {
      const op = tmp.store!.get(id)!;
      return [op.status, op.attempts, op.error, op.updatedAt];
    };
    assert.deepEqual(status('2'), ['QUEUED', 1, 'interrupted while sending', iso(T0 + 5000)]);
    assert.deepEqual(status('3'), ['FAILED', 3, 'interrupted; maxAttempts reached', iso(T0 + 5000)]);
    assert.deepEqual(status('5'), ['QUEUED', 2, 'interrupted while sending', iso(T0 + 5000)]);
    assert.deepEqual(status('1'), ['CONFIRMED', 1, undefined, iso(T0)]);
    assert.equal(tmp.store.nextQueued('dev')?.id, '2', 'the requeued operation is first in line again');
    assert.equal(tmp.store.queuedCount('dev'), 2);
    assert.deepEqual(tmp.store.countsByStatus(), { QUEUED: 3, SENDING: 0, CONFIRMED: 1, FAILED: 1, CANCELLED: 0, EXPIRED: 0 });
    assert.ok(log.lines.some((l) => l.level === 'warn' && (l.obj as { requeued?: number }).requeued === 2));
    const disk = await onDisk(tmp.file);
    assert.deepEqual(
      disk.operations.map((o) => o.status),
      ['CONFIRMED', 'QUEUED', 'FAILED', 'QUEUED', 'QUEUED'],
      'recovery is written',
    );
  });

  it('refuses a corrupt (truncated, empty, not-JSON) file and leaves it untouched, saying how to recover', async () => {
    const torn = JSON.stringify({ version: 1, nextId: 42, operations: [stored(40, 'QUEUED', 0), stored(41, 'QUEUED', 0)] }).slice(0, -30);
    for (const text of [torn, '', 'garbage\n', '{"version":1,"nextId":3,"operations":[\n{"id":"1"']) {
      await writeFile(tmp.file, text);
      const err = await openStore(tmp.file).then(
        () => assert.fail(`opened a corrupt store: ${JSON.stringify(text)}`),
        (e: unknown) => e as Error,
      );
      assert.ok(err instanceof StoreCorruptError, String(err));
      assert.match(err.message, /--salvage-store/);
      assert.deepEqual(await readdir(tmp.dir), ['operations.json'], 'nothing set aside or rewritten');
      assert.equal(await readFile(tmp.file, 'utf8'), text, 'the file is as it was');
    }
  });

  it('salvages every complete operation of a truncated file with --salvage-store, keeps a copy, and does not reuse ids it can still read', async () => {
    const ops = [stored(38, 'CONFIRMED', 1), stored(39, 'QUEUED', 0), stored(40, 'QUEUED', 0), stored(41, 'QUEUED', 0)];
    const whole = `{"version":1,"nextId":42,"operations":[\n${ops.map((o) => JSON.stringify(o)).join(',\n')}\n]}\n`;
    const torn = whole.slice(0, whole.indexOf('"id":"41"') + 20); // the last operation is cut in half
    await writeFile(tmp.file, torn);
    const log = captureLog();
    tmp.store = await openStore(tmp.file, { log, now: () => T0, salvage: true });
    assert.deepEqual(
      tmp.store.list({ limit: 10 }).items.map((o) => o.id),
      ['38', '39', '40'],
      'every complete operation kept',
    );
    const aside = `operations.json.corrupt-${iso(T0).replace(/[:.]/g, '-')}`;
    assert.deepEqual((await readdir(tmp.dir)).sort(), ['operations.json', aside]);
    assert.equal(await readFile(`${tmp.dir}/${aside}`, 'utf8'), torn, 'kept as it was');
    assert.ok(log.lines.some((l) => l.level === 'error' && JSON.stringify(l.obj).includes(aside)));
    assert.deepEqual(
      (await onDisk(tmp.file)).operations.map((o) => o.id),
      ['38', '39', '40'],
      'a valid file again',
    );
    assert.equal((await tmp.store.create(write('d', 1))).operation.id, '42', 'id 41, seen in the damaged line, is not reused');
  });

  it('refuses a file with invalid entries; with --salvage-store keeps the valid ones after copying it aside', async () => {
    const text = JSON.stringify({
      version: 1,
      nextId: 4,
      operations: [stored(1, 'QUEUED', 0), { id: 'x' }, stored(3, 'BOGUS', 0), stored(1, 'FAILED', 1)],
    });
    await writeFile(tmp.file, text);
    await assert.rejects(openStore(tmp.file), (e: unknown) => e instanceof StoreCorruptError && /3 invalid operation/.test(e.message));
    const log = captureLog();
    tmp.store = await openStore(tmp.file, { log, salvage: true });
    assert.deepEqual(
      tmp.store.list({ limit: 10 }).items.map((o) => [o.id, o.status]),
      [['1', 'QUEUED']],
    );
    const copies = (await readdir(tmp.dir)).filter((n) => n.includes('.corrupt-'));
    assert.equal(copies.length, 1);
    assert.equal(await readFile(`${tmp.dir}/${copies[0]}`, 'utf8'), text);
    assert.ok(log.lines.some((l) => l.level === 'error' && (l.obj as { dropped?: number }).dropped === 3));
  });

  it('does not mistake an I/O error for corruption', async () => {
    await mkdir(tmp.file); // EISDIR on read
    await assert.rejects(openStore(tmp.file), /EISDIR/);
    assert.deepEqual(await readdir(tmp.dir), ['operations.json']);
  });

  it('keeps the file equal to memory through random changes, prunes and reopens', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let now = T0;
    const options = { now: () => now, pruneAfterMs: 1000 };
    let s = (tmp.store = await openStore(tmp.file, options));
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => s.create({ ...write(`dev-${i % 5}`, i), value: i % 7 ? `v${i}` : { ü: [i, '✓'] } })),
      );
      const changes: Promise<unknown>[] = [];
      for (const op of s.list({ statuses: new Set(['QUEUED'] as const), limit: 10_000 }).items) {
        const r = random();
        if (r < 0.2) changes.push(s.cancel(op.id));
        else if (r < 0.5) {
          s.markSending(op.id);
          if (r < 0.45) changes.push(s.settle(op.id, { status: r < 0.3 ? 'CONFIRMED' : 'QUEUED', result: { code: 204 } }));
        }
      }
      await Promise.all(changes);
      now += 600;
      await s.prune();
      await s.flush();
      const disk = await onDisk(tmp.file);
      assert.deepEqual(disk.operations, s.list({ limit: 10_000 }).items, `round ${round}`);
      await s.close();
      s = tmp.store = await openStore(tmp.file, options); // SENDING ones are recovered here
      assert.equal(s.countsByStatus().SENDING, 0);
      assert.deepEqual((await onDisk(tmp.file)).operations, s.list({ limit: 10_000 }).items, `round ${round} reopened`);
    }
    assert.ok(s.size > 600, `${s.size} operations kept`);
  });
});

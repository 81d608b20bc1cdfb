import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { decodeFrames, encodeFrames } from '../../../src/dataDir/frames.js';
import { listSegments } from '../../../src/operations/store/journal.js';
import { StoreCorruptError, type OperationStore } from '../../../src/operations/store.js';
import { captureLog, onDisk, openStore, storeEachTest, write } from './helpers.js';

/** The only journal segment beside `file`. */
async function onlySegment(file: string): Promise<string> {
  const segments = await listSegments(file);
  assert.equal(segments.length, 1, JSON.stringify(segments));
  return segments[0]!.file;
}

/** Opens a store, creates `n` operations (acknowledged), and leaves it without close (as a crash would). */
async function crashedWith(file: string, n: number): Promise<OperationStore> {
  const s = await openStore(file);
  for (let i = 0; i < n; i++) await s.create(write(`dev-${i % 2}`, i));
  return s;
}

describe('OperationStore journal', () => {
  const tmp = storeEachTest();

  it('appends one record per change and leaves the snapshot alone until compaction', async () => {
    const s = (tmp.store = await openStore(tmp.file));
    const snapshotBefore = await readFile(tmp.file, 'utf8');
    const { operation } = await s.create(write('d', 1));
    s.markSending(operation.id);
    await s.flush();
    await s.settle(operation.id, { status: 'CONFIRMED' });
    assert.equal(await readFile(tmp.file, 'utf8'), snapshotBefore, 'the snapshot is not rewritten per change');
    const disk = await onDisk(tmp.file);
    assert.equal(disk.journalRecords, 3, 'create, SENDING, CONFIRMED');
    assert.deepEqual(disk.operations, [s.get(operation.id)]);
  });

  it('cuts a torn last record (a crash mid-append: never acknowledged) and keeps every record before it', async () => {
    const crashed = await crashedWith(tmp.file, 5);
    const expected = crashed.list({ limit: 10 }).items;
    const segment = await onlySegment(tmp.file);
    const whole = await readFile(segment);
    const torn = Buffer.concat([whole, encodeFrames(['{"seq":99,"type":"operation","put":{"id":"6"}}']).subarray(0, 30)]);
    await writeFile(segment, torn);
    const log = captureLog();
    tmp.store = await openStore(tmp.file, { log });
    assert.deepEqual(tmp.store.list({ limit: 10 }).items, expected);
    assert.equal((await stat(segment)).size, whole.length, 'the torn tail is cut off the file');
    assert.ok(log.lines.some((l) => l.level === 'warn' && (l.obj as { cut?: number }).cut === 30));
    assert.equal((await tmp.store.create(write('d', 6))).operation.id, '6');
  });

  it('cuts a last record whose checksum does not match', async () => {
    const crashed = await crashedWith(tmp.file, 3);
    const segment = await onlySegment(tmp.file);
    const bytes = await readFile(segment);
    const last = decodeFrames(bytes).frames.at(-1)!;
    bytes[last.at + 40]! ^= 0x20; // one bit of the last create's JSON
    await writeFile(segment, bytes);
    tmp.store = await openStore(tmp.file);
    assert.deepEqual(
      tmp.store.list({ limit: 10 }).items,
      crashed.list({ limit: 2 }).items,
      'the damaged last record is dropped, the others kept',
    );
    assert.equal((await stat(segment)).size, last.at);
  });

  it('refuses damage followed by valid records (not a torn tail) and leaves the files; --salvage-store keeps what it can', async () => {
    await crashedWith(tmp.file, 4);
    const segment = await onlySegment(tmp.file);
    const bytes = await readFile(segment);
    const second = decodeFrames(bytes).frames[1]!;
    bytes[second.at + 40]! ^= 0x20;
    await writeFile(segment, bytes);
    const err = await openStore(tmp.file).then(
      () => assert.fail('opened a journal damaged in the middle'),
      (e: unknown) => e as Error,
    );
    assert.ok(err instanceof StoreCorruptError, String(err));
    assert.match(err.message, /journal-1 is corrupt .*valid records after it.*--salvage-store/);
    assert.deepEqual(await readFile(segment), bytes, 'the segment is as it was');

    const log = captureLog();
    tmp.store = await openStore(tmp.file, { salvage: true, log });
    assert.deepEqual(
      tmp.store.list({ limit: 10 }).items.map((o) => o.id),
      ['1'],
      'the records before the damage',
    );
    assert.equal((await tmp.store.create(write('d', 9))).operation.id, '5', 'ids seen are not reused');
    const names = await readdir(tmp.dir);
    assert.ok(names.some((n) => n.startsWith('operations.json.journal-1.corrupt-')));
    assert.ok(!names.includes('operations.json.journal-1'), 'folded into a new snapshot');
  });

  it('compacts in the background once the journal passes its size, removes the folded segments, and reopens to the same state', async () => {
    const s = (tmp.store = await openStore(tmp.file, { compaction: { compactBytes: 4096, snapshotRatio: 0 } }));
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.create(write(`dev-${i % 3}`, round * 20 + i))));
    }
    await s.compacted();
    const stats = s.diskStats();
    assert.ok(stats.compactions >= 3, `${stats.compactions} compactions`);
    assert.ok(stats.journalRecords < 200, `${stats.journalRecords} of 200 records still in the journal`);
    const snapshot = JSON.parse(await readFile(tmp.file, 'utf8')) as { seq: number; operations: unknown[] };
    assert.ok(snapshot.seq > 0 && snapshot.operations.length > 0);
    assert.ok((await listSegments(tmp.file)).length <= 2, 'folded segments removed');
    const expected = s.list({ limit: 1000 }).items;
    assert.deepEqual((await onDisk(tmp.file)).operations, expected);
    await s.close();
    assert.deepEqual(await listSegments(tmp.file), [], 'a clean close leaves the snapshot alone');
    tmp.store = await openStore(tmp.file);
    assert.deepEqual(tmp.store.list({ limit: 1000 }).items, expected);
  });

  it('applies nothing twice after a crash between the new snapshot and the removal of the old journal', async () => {
    const crashed = await crashedWith(tmp.file, 3);
    const segment = await onlySegment(tmp.file);
    const kept = `${tmp.dir}/segment-copy`;
    await copyFile(segment, kept);
    const { operation } = await crashed.create(write('d', 4));
    await crashed.cancel('1');
    await crashed.close(); // compacts: snapshot with every change, segment removed
    await copyFile(kept, segment); // as if the crash came before the removal
    tmp.store = await openStore(tmp.file);
    assert.deepEqual(
      tmp.store.list({ limit: 10 }).items.map((o) => [o.id, o.status]),
      [
        ['1', 'CANCELLED'],
        ['2', 'QUEUED'],
        ['3', 'QUEUED'],
        [operation.id, 'QUEUED'],
      ],
      'the old records (seq <= the snapshot seq) are skipped: the cancel is not undone',
    );
  });
});

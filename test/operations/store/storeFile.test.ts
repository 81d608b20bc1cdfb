import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { Operation } from '../../../src/operations/operation.js';
import { BLOCK, StoreCodec, type StoreData } from '../../../src/operations/store/storeFile.js';

const at = '2026-11-25T17:00:00.000Z';
const op = (id: number, value: unknown = `v${id}`): Operation =>
  Object.freeze({
    id: String(id),
    ep: `dev-${id % 3}`,
    kind: 'write',
    path: '/5/0/1',
    value,
    status: 'QUEUED',
    attempts: 0,
    createdAt: at,
    updatedAt: at,
  });
const data = (ops: Operation[], nextId = ops.length + 1): StoreData => ({ version: 1, nextId, operations: ops });
const bytes = (chunks: Buffer[]) => Buffer.concat(chunks);

/** Counts JSON.stringify calls made while `fn` runs. */
function stringifyCalls(fn: () => void): number {
  const spy = mock.method(JSON, 'stringify');
  try {
    fn();
    return spy.mock.callCount();
  } finally {
    spy.mock.restore();
  }
}

describe('StoreCodec', () => {
  it('writes valid JSON, one operation per line, for 0, 1 and several blocks', () => {
    for (const n of [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7]) {
      const ops = Array.from({ length: n }, (_, i) => op(i + 1));
      const text = bytes(new StoreCodec().encode(data(ops))).toString('utf8');
      assert.deepEqual(JSON.parse(text), { version: 1, nextId: n + 1, operations: ops }, `${n} operations`);
      assert.equal(text.split('\n').length, Math.max(n, 1) + 3, 'header, one line each (or a blank one), footer');
    }
  });

  it('re-encodes only the blocks whose operations changed', () => {
    const ops = Array.from({ length: 3 * BLOCK }, (_, i) => op(i + 1));
    const codec = new StoreCodec();
    assert.equal(
      stringifyCalls(() => codec.encode(data(ops))),
      3 * BLOCK,
    );
    assert.equal(
      stringifyCalls(() => codec.encode(data(ops))),
      0,
      'nothing changed',
    );
    ops[BLOCK + 5] = op(BLOCK + 6, 'changed');
    ops.push(op(3 * BLOCK + 1));
    let text = '';
    assert.equal(
      stringifyCalls(() => void (text = bytes(codec.encode(data(ops))).toString())),
      BLOCK + 1,
      'the changed block and the new one',
    );
    assert.deepEqual(JSON.parse(text).operations, ops);
    ops.splice(10, 1); // a removal shifts every block after it
    assert.deepEqual(JSON.parse(bytes(codec.encode(data(ops))).toString()).operations, ops);
  });

  it('reuses the bytes it reads, ASCII or not, as long as the operations are the same', () => {
    for (const value of ['plain', 'ünïcödé ✓ 🚀']) {
      const ops = Array.from({ length: 2 * BLOCK + 3 }, (_, i) => op(i + 1, i % 50 === 0 ? value : `v${i}`));
      const file = bytes(new StoreCodec().encode(data(ops)));
      const codec = new StoreCodec();
      const read = codec.parse(file);
      assert.deepEqual(read, data(ops));
      assert.equal(
        stringifyCalls(() => assert.ok(bytes(codec.encode(read)).equals(file))),
        0,
        `${value}: same bytes, nothing encoded`,
      );
      read.operations[BLOCK] = op(BLOCK + 1, value + '!');
      read.nextId = 999;
      const again = bytes(codec.encode(read)).toString('utf8');
      assert.deepEqual(JSON.parse(again), { ...data(read.operations), nextId: 999 });
    }
  });

  it('parses a file in another layout as a whole, and rejects what is not the store document', () => {
    const ops = [op(1), op(2)];
    assert.deepEqual(new StoreCodec().parse(Buffer.from(JSON.stringify(data(ops), null, 2))), data(ops));
    assert.deepEqual(
      new StoreCodec().parse(Buffer.from(JSON.stringify({ operations: ops }))),
      data(ops, 1),
      'nextId defaults to 1 (the store raises it)',
    );
    const good = bytes(new StoreCodec().encode(data(ops))).toString();
    for (const bad of [
      '',
      '[]',
      'null',
      '{"operations":{}}',
      '{"nextId":"x","operations":[]}',
      good.slice(0, -5),
      good.replace('},\n', '}\n'),
      good.replace('}\n]}', '\n]}'),
      good.replace('"id":"1"', '"id":"1'),
    ]) {
      assert.throws(() => new StoreCodec().parse(Buffer.from(bad)), Error, JSON.stringify(bad.slice(0, 40)));
    }
  });
});

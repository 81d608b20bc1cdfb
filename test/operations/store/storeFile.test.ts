import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { Operation } from '../../../src/operations/operation.js';
import {
  checkOperation,
  CHUNK_OPS,
  EMPTY_SECTION,
  shareResult,
  StoreCodec,
  type EntitySection,
  type StoreData,
} from '../../../src/operations/store/storeFile.js';

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
const data = (ops: Operation[], nextId = ops.length + 1, seq = 0, firmware: EntitySection = EMPTY_SECTION): StoreData => ({
  version: 1,
  nextId,
  seq,
  operations: ops,
  firmware,
});
const update = (id: number) => ({
  id: String(id),
  ep: `dev-${id}`,
  status: 'RUNNING',
  step: 'downloading',
  progress: { seq: id, pending: { purpose: 'read_state', seq: 1 } },
});
const bytes = (chunks: Iterable<Buffer>) => Buffer.concat([...chunks]);

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
  it('writes valid JSON, one operation per line, for 0, 1 and several chunks', () => {
    for (const n of [0, 1, CHUNK_OPS - 1, CHUNK_OPS, CHUNK_OPS + 1, 3 * CHUNK_OPS + 7]) {
      const ops = Array.from({ length: n }, (_, i) => op(i + 1));
      const text = bytes(new StoreCodec().encode(data(ops, n + 1, 7))).toString('utf8');
      assert.deepEqual(
        JSON.parse(text),
        { version: 1, nextId: n + 1, seq: 7, operations: ops, firmware: EMPTY_SECTION },
        `${n} operations`,
      );
      assert.equal(text.split('\n').length, Math.max(n, 1) + 7, 'header, one line each (or a blank one), the firmware member, footer');
    }
  });

  it('encodes lazily, chunk by chunk, so the file is written while it is encoded', () => {
    const ops = Array.from({ length: 3 * CHUNK_OPS }, (_, i) => op(i + 1));
    const chunks = new StoreCodec().encode(data(ops))[Symbol.iterator]();
    chunks.next(); // header
    assert.equal(
      stringifyCalls(() => chunks.next()),
      CHUNK_OPS,
      'one chunk of operations encoded per step',
    );
  });

  it('reads back what it writes, ASCII or not, with its seq', () => {
    for (const value of ['plain', 'ünïcödé ✓ 🚀']) {
      const ops = Array.from({ length: 2 * CHUNK_OPS + 3 }, (_, i) => op(i + 1, i % 50 === 0 ? value : `v${i}`));
      const file = bytes(new StoreCodec().encode(data(ops, 9999, 42)));
      assert.deepEqual(new StoreCodec().parse(file), data(ops, 9999, 42));
    }
  });

  it('writes firmware updates and campaigns one per line after the operations, and reads them back (line by line and whole)', () => {
    for (const [nOps, nUpdates, nCampaigns] of [
      [0, 0, 0],
      [0, 1, 0],
      [3, 0, 2],
      [2, CHUNK_OPS + 2, 1],
    ] as const) {
      const firmware = {
        nextId: nUpdates + 5,
        nextCampaignId: nCampaigns + 2,
        updates: Array.from({ length: nUpdates }, (_, i) => update(i + 1)),
        campaigns: Array.from({ length: nCampaigns }, (_, i) => ({ id: String(i + 1), endpoints: ['a', 'b'], started: i })),
      };
      const doc = data(
        Array.from({ length: nOps }, (_, i) => op(i + 1)),
        nOps + 1,
        3,
        firmware,
      );
      const file = bytes(new StoreCodec().encode(doc));
      assert.deepEqual(new StoreCodec().parse(file), doc, `${nOps}/${nUpdates}/${nCampaigns}`);
      assert.deepEqual(JSON.parse(file.toString()), doc, 'valid JSON');
      const lines = file.toString().split('\n');
      assert.equal(lines.length, Math.max(nOps, 1) + Math.max(nUpdates, 1) + Math.max(nCampaigns, 1) + 5, 'one line per entry');
      const whole = JSON.stringify(doc, null, 1); // another layout: parsed as a whole
      assert.deepEqual(new StoreCodec().parse(Buffer.from(whole)), doc);
    }
    const good = bytes(new StoreCodec().encode(data([op(1)], 2, 3, { ...EMPTY_SECTION, updates: [update(1), update(2)] }))).toString();
    for (const bad of [
      good.replace('"updates":[', '"updates":{'),
      good.replace('"nextCampaignId":1', '"nextCampaignId":"1"'),
      good.replace('],"campaigns":[\n', '],"campaigns":{\n'),
      good.slice(0, -4),
      good.replace('}},\n', '}}\n'),
    ]) {
      assert.throws(() => new StoreCodec().parse(Buffer.from(bad)), Error, JSON.stringify(bad.slice(-60)));
    }
  });

  it('parses a file in another layout (or from before the journal: no seq) as a whole, and rejects what is not the store document', () => {
    const ops = [op(1), op(2)];
    const { seq: _, ...old } = data(ops);
    assert.deepEqual(new StoreCodec().parse(Buffer.from(JSON.stringify(old, null, 2))), data(ops));
    assert.deepEqual(
      new StoreCodec().parse(Buffer.from(`{"version":1,"nextId":3,"operations":[\n${ops.map((o) => JSON.stringify(o)).join(',\n')}\n]}\n`)),
      data(ops),
    );
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
      '{"nextId":1,"seq":"x","operations":[]}',
      good.slice(0, -5),
      good.replace('},\n', '}\n'),
      good.replace('}\n],"firmware"', '\n],"firmware"'),
      good.replace('"id":"1"', '"id":"1'),
    ]) {
      assert.throws(() => new StoreCodec().parse(Buffer.from(bad)), Error, JSON.stringify(bad.slice(0, 40)));
    }
  });
});

describe('operations read from a file share what repeats', () => {
  const read = (result: unknown, id = 1) => checkOperation(JSON.parse(JSON.stringify({ ...op(id), result }))) as Operation;

  it('one instance of a result of only a status and a code, for every operation with the same JSON', () => {
    const a = read({ status: 'CHANGED(204)', code: 204 }, 1);
    const b = read({ status: 'CHANGED(204)', code: 204 }, 2);
    const c = read({ status: 'NOT_FOUND(404)', code: 404 }, 3);
    assert.equal(a.result, b.result);
    assert.notEqual(a.result, c.result);
    assert.ok(Object.isFrozen(a.result));
    assert.equal(JSON.stringify(b), JSON.stringify({ ...op(2), result: { status: 'CHANGED(204)', code: 204 } }), 'the same JSON');
    assert.equal(shareResult(JSON.parse('{"code":204,"status":"CHANGED(204)"}')) === a.result, false, 'other key order: other JSON');
  });

  it('keeps a result with anything else (a read content, a device message) as it is', () => {
    const content = { status: 'CONTENT(205)', code: 205, content: { kind: 'singleResource', id: 0, value: 1 } };
    assert.notEqual(read(content, 1).result, read(content, 2).result);
    const message = { status: 'BAD_REQUEST(400)', code: 400, errormessage: 'no' };
    assert.notEqual(read(message, 1).result, read(message, 2).result);
    const odd = { status: 204, code: 'CHANGED' };
    assert.notEqual(read(odd, 1).result, read(odd, 2).result);
  });
});

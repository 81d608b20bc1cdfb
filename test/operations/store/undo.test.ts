/** The store's undo log alone: what a failed write puts back, and what the journal gets for a group. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UndoLog } from '../../../src/operations/store/undo.js';
import { OperationIndex } from '../../../src/operations/store/indexes.js';
import { EntityTables, type Entity } from '../../../src/operations/store/entities.js';
import type { Operation } from '../../../src/operations/operation.js';

const at = '2026-11-29T08:00:00.000Z';
/** A firmware update as the store sees it: an id and whatever else. */
const update = (step: string): Entity => ({ id: '1', step }) as Entity;
const op = (id: number, status: Operation['status'] = 'QUEUED'): Operation =>
  Object.freeze({ id: String(id), ep: 'dev', kind: 'read', path: '/3/0/0', status, attempts: 0, createdAt: at, updatedAt: at });

describe('UndoLog', () => {
  it('puts back every change not on disk, the group in flight and the one after it: created ones go, changed ones return', () => {
    const index = new OperationIndex([op(1), op(2)]);
    const entities = new EntityTables();
    entities.set('firmware', update('downloading'));
    const undo = new UndoLog(3);
    undo.operation(1, index.get(1)!); // 1 -> SENDING
    index.replace(op(1, 'SENDING'));
    undo.operation(3, null); // created
    index.add(op(3));
    undo.startWrite(4); // the group {1, 3} is being written
    undo.operation(1, index.get(1)!); // 1 -> CONFIRMED, in the next group
    index.replace(op(1, 'CONFIRMED'));
    undo.entity('firmware', '1', entities.get('firmware', '1')!);
    entities.set('firmware', update('updating'));
    undo.entity('firmwareCampaign', '1', null);
    entities.set('firmwareCampaign', { id: '1' });

    const { nextId, undone } = undo.undoAll(index, entities, 4);
    assert.equal(nextId, 3, 'the next id from before the group in flight');
    assert.equal(undone, 5);
    assert.equal(index.get(1)!.status, 'QUEUED', 'as it was before its first change not on disk');
    assert.equal(index.get(3), undefined);
    assert.equal(index.get(2)!.status, 'QUEUED');
    assert.deepEqual(entities.get('firmware', '1'), update('downloading'));
    assert.equal(entities.get('firmwareCampaign', '1'), undefined);
    assert.deepEqual(undo.undoAll(index, entities, 3), { nextId: 3, undone: 0 }, 'afresh after an undo');
  });

  it('keeps the first state of an id within a group', () => {
    const index = new OperationIndex([op(1)]);
    const undo = new UndoLog(2);
    undo.operation(1, index.get(1)!);
    index.replace(op(1, 'SENDING'));
    undo.operation(1, index.get(1)!);
    index.replace(op(1, 'CONFIRMED'));
    undo.undoAll(index, new EntityTables(), 2);
    assert.equal(index.get(1)!.status, 'QUEUED');
  });

  it('gives the journal each id of the group in flight as it is now, a del for one that is gone', () => {
    const index = new OperationIndex([op(1), op(2)]);
    const entities = new EntityTables();
    const undo = new UndoLog(3);
    assert.deepEqual(undo.changesInFlight(index, entities), [], 'nothing in flight yet');
    undo.operation(1, index.get(1)!);
    index.replace(op(1, 'SENDING'));
    undo.operation(2, index.get(2)!);
    index.remove(2);
    undo.entity('firmware', '7', null);
    entities.set('firmware', { id: '7' });
    undo.startWrite(3);
    undo.operation(1, index.get(1)!); // the next group: not in this write
    assert.deepEqual(undo.changesInFlight(index, entities), [
      { type: 'operation', put: op(1, 'SENDING') },
      { type: 'operation', del: '2' },
      { type: 'firmware', put: { id: '7' } },
    ]);
  });
});

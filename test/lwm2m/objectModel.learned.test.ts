import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  learnedObjectCount,
  learnObjectModel,
  listObjectModels,
  MAX_LEARNED_OBJECTS,
  objectModel,
  resourceModel,
} from '../../src/lwm2m/objectModel.js';
import type { ObjectRow } from '../../src/lwm2m/objectModels.js';

const row = (id: number, name: string): ObjectRow => ({
  id,
  name,
  multiple: true,
  version: '1.0',
  resources: [
    [0, 'Flow', 'FLOAT', 'R', false],
    [1, 'Reset', 'NONE', 'E', false],
  ],
});

describe('object models learned at run time (a vendor object as Leshan reports it)', () => {
  it('are looked up like the registry, the first definition of an id staying', () => {
    assert.equal(objectModel(33000), undefined);
    assert.equal(learnObjectModel(row(33000, 'Pump')), 'learned');
    assert.equal(objectModel(33000)?.name, 'Pump');
    assert.deepEqual(resourceModel(33000, 0), { id: 0, name: 'Flow', type: 'FLOAT', operations: 'R', multiple: false });
    assert.equal(learnObjectModel(row(33000, 'Other pump')), 'known');
    assert.equal(objectModel(33000)?.name, 'Pump');
    assert.ok(!listObjectModels().some((o) => o.id === 33000), 'the static list stays the registry and 10240');
  });

  it('never replace a registry object or 10240', () => {
    assert.equal(learnObjectModel(row(3303, 'Not a temperature')), 'known');
    assert.equal(learnObjectModel(row(10240, 'Not ours')), 'known');
    assert.equal(objectModel(3303)?.name, 'Temperature');
    assert.equal(objectModel(10240)?.name, 'Registration Events');
  });

  it(`are bounded: at most ${MAX_LEARNED_OBJECTS} objects`, () => {
    for (let id = 40000; learnedObjectCount() < MAX_LEARNED_OBJECTS; id++) assert.equal(learnObjectModel(row(id, `V${id}`)), 'learned');
    assert.equal(learnObjectModel(row(50000, 'One too many')), 'full');
    assert.equal(objectModel(50000), undefined);
    assert.equal(learnedObjectCount(), MAX_LEARNED_OBJECTS);
  });
});

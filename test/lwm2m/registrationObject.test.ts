import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseObjectLinks,
  presenceEventOf,
  registrationDetailsOf,
  registrationEventOf,
  registrationValueProblem,
} from '../../src/lwm2m/registrationObject.js';
import type { ResourceValue } from '../../src/lwm2m/node.js';

const r = (resourceId: number, value: ResourceValue['value'], objectId = 10240): ResourceValue => ({
  objectId,
  instanceId: 0,
  resourceId,
  value,
});

describe('object 10240', () => {
  it('resources 0-2 are registration events, 3-4 presence, 5-8 neither', () => {
    const t = { type: 'TIME', value: 1 } as const;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 8].map((id) => [registrationEventOf(r(id, t)), presenceEventOf(r(id, t))]),
      [
        ['registered', undefined],
        ['deregistered', undefined],
        ['updated', undefined],
        [undefined, 'awake'],
        [undefined, 'sleeping'],
        [undefined, undefined],
        [undefined, undefined],
      ],
    );
    assert.equal(presenceEventOf(r(3, t, 3303)), undefined, 'only object 10240');
  });

  it('reads the details 5-8, and holds each resource to the type of the posts contract', () => {
    const values = [
      r(0, { type: 'TIME', value: 1 }),
      r(5, { type: 'BOOLEAN', value: true }),
      r(6, { type: 'STRING', value: 'UQ' }),
      r(7, { type: 'STRING', value: '</1/0>,</3/0>' }),
      r(8, { type: 'INTEGER', value: '300' }),
    ];
    assert.deepEqual(registrationDetailsOf(values), { queueMode: true, binding: 'UQ', objectLinks: '</1/0>,</3/0>', lifetime: '300' });
    assert.deepEqual(registrationDetailsOf([r(0, { type: 'TIME', value: 1 })]), {});
    for (const v of values) assert.equal(registrationValueProblem(v), undefined);
    assert.equal(registrationValueProblem(r(5, { type: 'STRING', value: 'true' })), '/10240/0/5 must be BOOLEAN, not STRING');
    assert.equal(registrationValueProblem(r(3, { type: 'INTEGER', value: '5' })), '/10240/0/3 must be TIME, not INTEGER');
    assert.equal(registrationValueProblem(r(8, { type: 'FLOAT', value: 3 })), '/10240/0/8 must be INTEGER or UNSIGNED_INTEGER, not FLOAT');
    assert.equal(registrationValueProblem(r(9, { type: 'FLOAT', value: 3 })), undefined, 'resources past 8 are not the contract');
    assert.equal(registrationValueProblem(r(5, { type: 'STRING', value: 'x' }, 3303)), undefined);
  });
});

describe('parseObjectLinks', () => {
  it('reads a registration link format into urls and attributes, as Leshan lists them', () => {
    assert.deepEqual(parseObjectLinks('</>;rt="oma.lwm2m";ct=60 110 112,</1/0>,</3/0>,</3303/0>;ver=1.1,</3303/1>'), [
      { url: '/', attributes: { rt: 'oma.lwm2m', ct: '60 110 112' } },
      { url: '/1/0', attributes: {} },
      { url: '/3/0', attributes: {} },
      { url: '/3303/0', attributes: { ver: '1.1' } },
      { url: '/3303/1', attributes: {} },
    ]);
  });

  it('does not split at commas or semicolons inside quotes, skips what is not a link', () => {
    assert.deepEqual(parseObjectLinks('</a>;title="x, y; z",junk, </5/0> ;obs'), [
      { url: '/a', attributes: { title: 'x, y; z' } },
      { url: '/5/0', attributes: { obs: '' } },
    ]);
    assert.deepEqual(parseObjectLinks(''), []);
  });
});

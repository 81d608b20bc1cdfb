import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isExpected, KnownEndpoints } from '../../src/operations/knownEndpoints.js';

describe('isExpected', () => {
  it('matches whole names, and prefixes given with a trailing *', () => {
    const patterns = ['dev-1', 'plant-a-*'];
    assert.equal(isExpected('dev-1', patterns), true);
    assert.equal(isExpected('dev-10', patterns), false);
    assert.equal(isExpected('plant-a-7', patterns), true);
    assert.equal(isExpected('plant-b-7', patterns), false);
    assert.equal(isExpected('anything', ['*']), true);
    assert.equal(isExpected('x', []), false);
  });
});

describe('KnownEndpoints', () => {
  it('asks Leshan only on a miss, afresh each time, one question per endpoint at a time', async () => {
    const asked: string[] = [];
    let registered = new Set(['reg']);
    const known = new KnownEndpoints({
      seen: (ep) => ep === 'seen',
      expected: ['exp-*'],
      isRegistered: async (ep) => {
        asked.push(ep);
        return registered.has(ep);
      },
    });
    assert.equal(await known.check('seen'), 'known');
    assert.equal(await known.check('exp-1'), 'known');
    assert.deepEqual(asked, []);
    assert.deepEqual(await Promise.all([known.check('reg'), known.check('typo'), known.check('typo')]), ['known', 'unknown', 'unknown']);
    assert.deepEqual(asked, ['reg', 'typo']);
    registered = new Set(['reg', 'typo']);
    assert.equal(await known.check('typo'), 'known', 'registered a moment ago');
    assert.deepEqual(asked, ['reg', 'typo', 'typo']);
  });

  it('says unverified when Leshan cannot be asked', async () => {
    const known = new KnownEndpoints({
      seen: () => false,
      expected: [],
      isRegistered: () => Promise.reject(new Error('Leshan unreachable')),
    });
    assert.equal(await known.check('x'), 'unverified');
  });
});

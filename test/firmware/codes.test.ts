import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isFailureResult, RETRYABLE_RESULTS, resultInWords, stateInWords } from '../../src/firmware/codes.js';

describe('object 5 codes in words', () => {
  it('names every 5/0/5 failure of LwM2M 1.0 and says which are retried', () => {
    assert.equal(resultInWords(2), 'not enough flash memory for the new firmware package (5/0/5 = 2)');
    assert.equal(resultInWords(3), 'out of RAM during download (5/0/5 = 3)');
    assert.equal(resultInWords(6), 'unsupported package type (5/0/5 = 6)');
    assert.equal(resultInWords(9), 'unsupported protocol (5/0/5 = 9)');
    assert.equal(resultInWords(42), 'unknown update result (5/0/5 = 42)');
    assert.deepEqual([...RETRYABLE_RESULTS].sort(), [4, 5]);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter((c) => isFailureResult(c)),
      [2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(stateInWords(2), 'Downloaded (2)');
  });
});

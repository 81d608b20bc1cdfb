import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle } from '../../src/log/throttle.js';

describe('LogThrottle', () => {
  it('lets one line per key through per interval and counts the rest into the next one', () => {
    let now = 0;
    const t = new LogThrottle(1000, () => now);
    assert.deepEqual(t.take('a'), { suppressed: 0 });
    assert.equal(t.take('a'), undefined);
    assert.equal(t.take('a'), undefined);
    assert.deepEqual(t.take('b'), { suppressed: 0 }, 'keys are apart');
    now = 999;
    assert.equal(t.take('a'), undefined);
    now = 1000;
    assert.deepEqual(t.take('a'), { suppressed: 3 });
    assert.equal(t.take('a'), undefined);
  });

  it('stays bounded however many keys a peer makes up', () => {
    const t = new LogThrottle(1000, () => 0);
    for (let i = 0; i < 10_000; i++) assert.ok(t.take(`k${i}`));
    assert.ok((t as unknown as { last: Map<string, unknown> }).last.size <= 256);
  });
});

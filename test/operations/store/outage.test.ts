/** The store's write outage alone: begun once, ended by a retried write that succeeds, waiters told. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WriteOutage } from '../../../src/operations/store/outage.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('WriteOutage', () => {
  it('begins at the first failure only, and lasts until a retried write succeeds', async () => {
    const outage = new WriteOutage();
    assert.equal(outage.current, undefined);
    await outage.whenOver(); // no outage: at once
    assert.equal(outage.begin('ENOSPC', 't1'), true);
    assert.equal(outage.begin('EIO', 't2'), false);
    assert.deepEqual(outage.current, { reason: 'ENOSPC', since: 't1' });
    let over = false;
    void outage.whenOver().then(() => (over = true));
    const ended: string[] = [];
    let tries = 0;
    const write = async () => {
      if (++tries === 1) throw new Error('still full');
    };
    outage.retryIn(1, write, (since) => ended.push(since));
    await tick(20);
    assert.equal(tries, 1);
    assert.equal(over, false, 'a failed try does not end it (the writer asks for the next)');
    outage.retryIn(1, write, (since) => ended.push(since));
    await tick(20);
    assert.equal(over, true);
    assert.equal(outage.current, undefined);
    assert.equal(tries, 2);
    assert.deepEqual(ended, ['t1']);
  });

  it('stop() lets the waiters go and cancels the next try', async () => {
    const outage = new WriteOutage();
    outage.begin('EIO', 't');
    const waiting = outage.whenOver();
    let tried = false;
    outage.retryIn(
      5,
      async () => void (tried = true),
      () => {},
    );
    outage.stop();
    await waiting;
    await tick(20);
    assert.equal(tried, false);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firmwareLine } from '../../src/firmware/points.js';
import type { FirmwareUpdate } from '../../src/firmware/update.js';

const base: FirmwareUpdate = {
  id: '12',
  ep: 'meter 1',
  uri: 'coap://fw/x.bin',
  version: '2.0 "beta"',
  status: 'RUNNING',
  step: 'downloading',
  attempts: 1,
  createdAt: '2026-11-29T05:00:00.000Z',
  updatedAt: '2026-11-29T05:00:00.000Z',
  timeoutAt: '2026-12-06T05:00:00.000Z',
  progress: { seq: 3 },
};

describe('firmware points', () => {
  it('one line per step: tags ep, status, step; fields attempts, id, version, and result once ended', () => {
    assert.equal(
      firmwareLine(base, '1700000000000000000'),
      'firmware,ep=meter\\ 1,status=RUNNING,step=downloading attempts=1i,id="12",version="2.0 \\"beta\\"" 1700000000000000000',
    );
    const failed = firmwareLine({ ...base, status: 'FAILED', result: 'invalid URI (5/0/5 = 7)' }, '1');
    assert.equal(
      failed,
      'firmware,ep=meter\\ 1,status=FAILED,step=downloading attempts=1i,id="12",version="2.0 \\"beta\\"",result="invalid URI (5/0/5 = 7)" 1',
    );
  });
});

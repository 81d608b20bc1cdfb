/** Pruning ended firmware updates and done campaigns, over the in-memory repository. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pruneFirmware } from '../../src/firmware/prune.js';
import { MemoryFirmwareRepository } from '../../src/firmware/repository.js';
import type { FirmwareCampaign, FirmwareStatus, FirmwareUpdate } from '../../src/firmware/update.js';

const OLD = '2026-10-01T00:00:00.000Z';
const NEW = '2026-11-28T00:00:00.000Z';
const CUTOFF = Date.parse('2026-11-01T00:00:00.000Z');

const update = (id: string, status: FirmwareStatus, updatedAt: string, campaignId?: string): FirmwareUpdate => ({
  id,
  ep: `dev-${id}`,
  uri: 'coap://fw/2.bin',
  version: '2',
  status,
  step: 'verifying',
  attempts: 1,
  createdAt: OLD,
  updatedAt,
  timeoutAt: NEW,
  progress: { seq: 1 },
  ...(campaignId !== undefined && { campaignId }),
});
const campaign = (id: string, started: number, updatedAt: string): FirmwareCampaign => ({
  id,
  uri: 'coap://fw/2.bin',
  version: '2',
  maxConcurrent: 2,
  endpoints: ['a', 'b'],
  started,
  skipped: [],
  createdAt: OLD,
  updatedAt,
});

async function repositoryWith(updates: FirmwareUpdate[], campaigns: FirmwareCampaign[]) {
  const r = new MemoryFirmwareRepository();
  for (const c of campaigns) await r.putCampaign(c);
  for (const u of updates) await r.put(u);
  return r;
}
const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe('pruneFirmware', () => {
  it('removes updates that ended before the cut-off; keeps running ones and those that ended since', async () => {
    const r = await repositoryWith(
      [update('1', 'SUCCEEDED', OLD), update('2', 'FAILED', OLD), update('3', 'CANCELLED', NEW), update('4', 'RUNNING', OLD)],
      [],
    );
    assert.deepEqual(await pruneFirmware(r, CUTOFF), { updates: 2, campaigns: 0 });
    assert.deepEqual(ids(r.all()), ['3', '4']);
    assert.deepEqual(await pruneFirmware(r, CUTOFF), { updates: 0, campaigns: 0 });
  });

  it('removes a done campaign with its updates once all of them are old; keeps one that is not done, or whose last update ended since', async () => {
    const r = await repositoryWith(
      [
        update('1', 'SUCCEEDED', OLD, '1'), // campaign 1: done, all old -> goes
        update('2', 'FAILED', OLD, '1'),
        update('3', 'SUCCEEDED', OLD, '2'), // campaign 2: one device not started yet -> stays
        update('4', 'SUCCEEDED', OLD, '3'), // campaign 3: done, but one update ended since -> stays
        update('5', 'SUCCEEDED', NEW, '3'),
        update('6', 'SUCCEEDED', OLD, '4'), // campaign 4: done, old, one update still running -> stays
        update('7', 'RUNNING', OLD, '4'),
        update('8', 'SUCCEEDED', OLD, '9'), // its campaign is gone: an update like any other -> goes
      ],
      [campaign('1', 2, OLD), campaign('2', 1, OLD), campaign('3', 2, OLD), campaign('4', 2, OLD)],
    );
    assert.deepEqual(await pruneFirmware(r, CUTOFF), { updates: 3, campaigns: 1 });
    assert.deepEqual(ids(r.all()), ['3', '4', '5', '6', '7']);
    assert.deepEqual(ids(r.allCampaigns()), ['2', '3', '4']);
  });

  it('removes a cancelled campaign whose devices were not all started, once it is old', async () => {
    const r = await repositoryWith([update('1', 'CANCELLED', OLD, '1')], [{ ...campaign('1', 1, OLD), cancelledAt: OLD }]);
    assert.deepEqual(await pruneFirmware(r, CUTOFF), { updates: 1, campaigns: 1 });
  });

  it('keeps a done campaign changed since the cut-off', async () => {
    const r = await repositoryWith([update('1', 'SUCCEEDED', OLD, '1')], [campaign('1', 2, NEW)]);
    assert.deepEqual(await pruneFirmware(r, CUTOFF), { updates: 0, campaigns: 0 });
  });
});

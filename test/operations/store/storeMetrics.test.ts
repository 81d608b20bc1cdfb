import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerStoreMetrics } from '../../../src/operations/store/storeMetrics.js';
import type { OperationStore } from '../../../src/operations/store.js';
import { openStore, tempDir, write } from './helpers.js';

const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe('store metrics', () => {
  let store: OperationStore | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('counts the bytes written, the journal and the compactions', async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const s = (store = await openStore(tmp.file, { compaction: { compactBytes: 2048, snapshotRatio: 0 } }));
    const metrics = new Registry();
    registerStoreMetrics(metrics, s);
    const before = await metrics.metrics();
    assert.equal(value(before, 'lwm2m_backend_store_journal_bytes'), 0);
    await s.create(write('d', 1));
    const one = await metrics.metrics();
    const record = value(one, 'lwm2m_backend_store_journal_bytes');
    assert.ok(record > 100 && record < 1000, `${record} bytes for one create`);
    assert.equal(value(one, 'lwm2m_backend_store_journal_records'), 1);
    assert.equal(value(one, 'lwm2m_backend_store_written_bytes_total') - value(before, 'lwm2m_backend_store_written_bytes_total'), record);
    for (let i = 0; i < 10; i++) await s.create(write('d', i));
    await s.compacted();
    const after = await metrics.metrics();
    assert.ok(value(after, 'lwm2m_backend_store_compactions_total') >= 1);
    assert.equal(value(after, 'lwm2m_backend_store_compaction_failures_total'), 0);
    assert.ok(value(after, 'lwm2m_backend_store_written_bytes_total') > 11 * record, 'appends and a snapshot');
  });
});

import type { Registry } from 'prom-client';
import { readGauge, totalCounter } from '../../metrics/following.js';
import type { OperationStore } from '../store.js';

/**
 * The store's disk use, read when scraped: bytes written (journal appends and snapshot rewrites), the
 * journal's size and records, compactions done and failed, and the last compaction's duration. The
 * event-loop delay is in the default metrics (`nodejs_eventloop_lag_*_seconds`).
 */
export function registerStoreMetrics(metrics: Registry, store: OperationStore): void {
  const counter = (name: string, help: string, read: () => number) => void totalCounter(metrics, name, help, read);
  const gauge = (name: string, help: string, read: () => number) => void readGauge(metrics, name, help, read);
  counter(
    'lwm2m_backend_store_written_bytes_total',
    'Bytes the operation store wrote (journal appends and snapshot rewrites)',
    () => store.diskStats().bytesWritten,
  );
  counter('lwm2m_backend_store_compactions_total', 'Journal compactions into a new snapshot', () => store.diskStats().compactions);
  counter(
    'lwm2m_backend_store_compaction_failures_total',
    'Compactions that did not finish (the journal kept every change)',
    () => store.diskStats().compactionFailures,
  );
  gauge('lwm2m_backend_store_journal_bytes', 'Bytes in the journal not yet folded into the snapshot', () => store.diskStats().journalBytes);
  gauge(
    'lwm2m_backend_store_journal_records',
    'Records in the journal not yet folded into the snapshot',
    () => store.diskStats().journalRecords,
  );
  gauge('lwm2m_backend_store_last_compaction_seconds', 'Duration of the last compaction', () => store.diskStats().lastCompactionMs / 1000);
}

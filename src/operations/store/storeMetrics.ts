import { Counter, Gauge, type Registry } from 'prom-client';
import type { OperationStore } from '../store.js';

/**
 * The store's disk use, read when scraped: bytes written (journal appends and snapshot rewrites), the
 * journal's size and records, compactions done and failed, and the last compaction's duration. The
 * event-loop delay is in the default metrics (`lwm2m_backend_nodejs_eventloop_lag_*_seconds`).
 */
export function registerStoreMetrics(metrics: Registry, store: OperationStore): void {
  const counter = (name: string, help: string, read: () => number) => {
    let last = 0;
    new Counter({
      name,
      help,
      registers: [metrics],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics],
      collect() {
        this.set(read());
      },
    });
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

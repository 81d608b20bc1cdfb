import { Counter, type Registry } from 'prom-client';
import type { Spool } from './spool.js';

/** `lwm2m_backend_spool_written_bytes_total`: bytes the spool appended to disk, read when scraped. */
export function registerSpoolMetrics(metrics: Registry, spool: Spool): void {
  let last = 0;
  new Counter({
    name: 'lwm2m_backend_spool_written_bytes_total',
    help: 'Bytes the InfluxDB spool appended to disk',
    registers: [metrics],
    collect() {
      if (spool.bytesWritten > last) this.inc(spool.bytesWritten - last);
      last = spool.bytesWritten;
    },
  });
}

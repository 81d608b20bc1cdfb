import type { Registry } from 'prom-client';
import { totalCounter } from '../metrics/following.js';
import type { Spool } from './spool.js';

/** `lwm2m_backend_influx_spool_written_bytes_total`: bytes the spool appended to disk, read when scraped. */
export function registerSpoolMetrics(metrics: Registry, spool: Spool): void {
  totalCounter(
    metrics,
    'lwm2m_backend_influx_spool_written_bytes_total',
    'Bytes the InfluxDB spool appended to disk',
    () => spool.bytesWritten,
  );
}

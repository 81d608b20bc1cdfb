import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the gauges read from the writer when scraped. */
export interface WriterState {
  readonly bufferedLines: number;
  readonly spooledLines: number;
  readonly spoolBytes: number;
}

/** The InfluxDB writer's metrics: points written, write errors by kind, points dropped, batch time, buffer and spool. */
export function createWriterMetrics(registry: Registry, writer: WriterState) {
  const prefix = 'lwm2m_backend_influx_';
  return {
    written: new Counter({ name: `${prefix}points_written_total`, help: 'Points acknowledged by InfluxDB', registers: [registry] }),
    errors: new Counter({
      name: `${prefix}write_errors_total`,
      help: 'Failed write requests by kind (connection, server, rate_limited, rejected, too_large, invalid, aborted)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    dropped: new Counter({
      name: `${prefix}points_dropped_total`,
      help: 'Points given up: rejected by InfluxDB as invalid, or dropped from a full spool',
      labelNames: ['reason'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: `${prefix}batch_seconds`,
      help: 'Time to write one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    buffered: new Gauge({
      name: `${prefix}buffered_points`,
      help: 'Points in memory waiting to be written',
      registers: [registry],
      collect() {
        this.set(writer.bufferedLines);
      },
    }),
    spoolPoints: new Gauge({
      name: `${prefix}spool_points`,
      help: 'Points waiting in the on-disk spool',
      registers: [registry],
      collect() {
        this.set(writer.spooledLines);
      },
    }),
    spoolBytes: new Gauge({
      name: `${prefix}spool_bytes`,
      help: 'Size of the on-disk spool',
      registers: [registry],
      collect() {
        this.set(writer.spoolBytes);
      },
    }),
  };
}

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { followTotal } from '../metrics/following.js';

/** What the metrics read from the writer when scraped. */
export interface WriterState {
  readonly bufferedLines: number;
  readonly spooledLines: number;
  readonly spoolBytes: number;
  /** The spool's running totals (they only grow). */
  readonly spoolState: {
    readonly droppedLines: number;
    readonly damagedLines: number;
    readonly damaged: { readonly torn: number; readonly corrupt: number };
  };
}

/** The InfluxDB writer's metrics: points written, write errors by kind, points dropped, batch time, buffer and spool. */
export function createWriterMetrics(registry: Registry, writer: WriterState) {
  const prefix = 'lwm2m_backend_influx_';
  const spool = (): WriterState['spoolState'] => writer.spoolState;
  const followers: (() => void)[] = [];
  const dropped = new Counter({
    name: `${prefix}points_dropped_total`,
    help:
      'Points given up, by reason: invalid (400), too_large (413), unreadable_response (refused with an answer the client cannot read ' +
      'while InfluxDB answers /ping) - those three kept in rejected.lp; spool_full (oldest dropped at the cap), spool_damaged ' +
      '(a spool segment that could not be read), spool_error (could not be written to the spool)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const f of followers) f();
    },
  });
  followers.push(
    followTotal(dropped, { reason: 'spool_full' }, () => spool().droppedLines),
    followTotal(dropped, { reason: 'spool_damaged' }, () => spool().damagedLines),
  );
  const damage = new Counter({
    name: `${prefix}spool_damaged_total`,
    help:
      'Spool segments found damaged: torn (a record cut short by a crash or failed write; cut back), ' +
      'corrupt (bad checksum; the rest set aside in a .bad file)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      torn();
      corrupt();
    },
  });
  const torn = followTotal(damage, { kind: 'torn' }, () => spool().damaged.torn);
  const corrupt = followTotal(damage, { kind: 'corrupt' }, () => spool().damaged.corrupt);
  return {
    written: new Counter({ name: `${prefix}points_written_total`, help: 'Points acknowledged by InfluxDB', registers: [registry] }),
    errors: new Counter({
      name: `${prefix}write_errors_total`,
      help: 'Failed write requests by kind (connection, unreadable_response, timeout, server, rate_limited, rejected, too_large, invalid, aborted)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    dropped,
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

import path from 'node:path';
import { resolveInfluxApi } from '../config/load.js';
import { withoutCredentials } from '../log/redact.js';
import { InfluxConnection } from '../influx/connection.js';
import { createInfluxEndpoint } from '../influx/endpoint.js';
import { Spool } from '../influx/spool.js';
import { registerSpoolMetrics } from '../influx/spoolMetrics.js';
import { InfluxWriter } from '../influx/writer.js';
import type { AssemblyContext, Checks } from './context.js';
import { readGauge } from '../metrics/following.js';

/** InfluxDB: the connection (probed), the spool under `dataDir/influx-spool`, the batching writer. */
export async function assembleInflux(ctx: AssemblyContext): Promise<{ writer: InfluxWriter; checks: Checks }> {
  const config = ctx.config.influx;
  const log = ctx.log.child({ component: 'influx' });
  const api = resolveInfluxApi(ctx.config);
  const endpoint = createInfluxEndpoint(config, api, config.maxInFlight + 1);
  ctx.started({ name: 'influx pool', stop: () => endpoint.close() });
  const connection = new InfluxConnection(endpoint, log);
  connection.start();
  ctx.started({ name: 'influx connection', stop: () => connection.stop() });

  const segmentBytes = Math.min(4 * 1024 * 1024, config.spoolMaxBytes / 8);
  const spool = new Spool({ dir: path.join(ctx.dataDir, 'influx-spool'), maxBytes: config.spoolMaxBytes, segmentBytes, log });
  await spool.open();
  registerSpoolMetrics(ctx.metrics, spool);
  const writer = new InfluxWriter({
    endpoint,
    connection,
    spool,
    log,
    registry: ctx.metrics,
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    maxInFlight: config.maxInFlight,
  });
  writer.start();
  ctx.started({ name: 'influx writer', stop: () => writer.stop() });

  readGauge(ctx.metrics, 'lwm2m_backend_influx_up', '1 while InfluxDB answers (0: points go to the spool)', () =>
    connection.snapshot().state === 'up' ? 1 : 0,
  );
  const checks: Checks = {
    influx: () => {
      const status = connection.snapshot();
      return {
        ok: status.state === 'up',
        // while InfluxDB is away points go to the spool: the daemon still does its job
        degraded: status.state !== 'up',
        ...status,
        url: withoutCredentials(config.url),
        api,
        buffered: writer.bufferedLines,
        spooled: writer.spooledLines,
        spoolDropped: writer.droppedFromSpool,
      };
    },
  };
  return { writer, checks };
}

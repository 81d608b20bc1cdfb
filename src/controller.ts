import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { assembleEventStream } from './assembly/eventStream.js';
import { prepareDataDir } from './assembly/dataDir.js';
import { assembleInflux } from './assembly/influx.js';
import { assembleOperations } from './assembly/operations.js';
import { startHttp } from './assembly/http.js';
import type { AssemblyContext, Part } from './assembly/context.js';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { createMetricsRegistry } from './metrics/registry.js';
import { errorFields } from './log/errorText.js';
import { packageVersion } from './config/version.js';

/**
 * Owns the daemon's parts: starts them in order (data directory, InfluxDB, operations and delivery,
 * Leshan's event stream, HTTP) and stops them in reverse, each stop on its own so that one failure does
 * not keep the others from stopping. What each part is made of is in `assembly/`.
 */
export class Controller {
  readonly metrics: Registry = createMetricsRegistry(packageVersion());
  private readonly parts: Part[] = [];
  private listening: AddressInfo | undefined;
  private stopping: Promise<number> | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly flags: { salvageStore?: boolean } = {},
  ) {}

  /** The address HTTP listens on (after start). */
  address(): AddressInfo {
    if (!this.listening) throw new Error('HTTP server is not listening');
    return this.listening;
  }

  async start(): Promise<void> {
    const started = (part: Part): void => void this.parts.push(part);
    const dataDir = await prepareDataDir(this.config, this.log, started);
    const ctx: AssemblyContext = { config: this.config, log: this.log, metrics: this.metrics, dataDir, started, flags: this.flags };
    const influx = await assembleInflux(ctx);
    const operations = await assembleOperations(ctx, { lines: influx.writer });
    // Leshan's held requests exist exactly when the event stream is followed (it settles them)
    const stream = operations.delayed
      ? assembleEventStream(ctx, {
          ingest: operations.ingest,
          activity: operations.activity,
          delayed: operations.delayed,
          client: operations.client,
        })
      : { checks: {} };
    const checks = { ...influx.checks, ...operations.checks, ...stream.checks };
    this.listening = await startHttp(ctx, { ingest: operations.ingest, routers: operations.routers, checks });
  }

  /** Stops every part in reverse order; resolves to the exit code (0 when all stopped cleanly). Idempotent. */
  stop(): Promise<number> {
    this.stopping ??= (async () => {
      let code = 0;
      for (const part of this.parts.reverse()) {
        try {
          await part.stop();
        } catch (err) {
          code = 1;
          this.log.error({ component: 'controller', part: part.name, ...errorFields(err, { stack: true }) }, 'stop failed');
        }
      }
      this.parts.length = 0;
      return code;
    })();
    return this.stopping;
  }
}

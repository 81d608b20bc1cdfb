import { mkdir, access, constants } from 'node:fs/promises';
import { lockDataDir } from './dataDir/lock.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type Router from '@koa/router';
import type { Counter, Registry } from 'prom-client';
import { resolveInfluxApi, toBlockList } from './config/load.js';
import type { Config } from './config/schema.js';
import { createApp } from './http/app.js';
import { healthRoutes, withoutCredentials, type HealthChecks } from './http/healthRoutes.js';
import { InfluxConnection } from './influx/connection.js';
import { createInfluxEndpoint } from './influx/endpoint.js';
import { Spool } from './influx/spool.js';
import { InfluxWriter } from './influx/writer.js';
import { endpointRoutes } from './endpoints/endpointRoutes.js';
import { EndpointRegistry } from './endpoints/registry.js';
import { bearerAuth } from './http/auth.js';
import { CrossSourceDedupe } from './ingest/dedupe.js';
import { EventIngress } from './ingest/eventIngress.js';
import { Ingest } from './ingest/ingest.js';
import { createLeshanHandler } from './ingest/leshanHandler.js';
import { LeshanClient, leshanDeadlineMs } from './leshan/client.js';
import { LeshanEventStream } from './leshan/eventStream.js';
import { parseRegistrations } from './leshan/events.js';
import type { Logger } from './log/logger.js';
import { createMetricsRegistry } from './metrics/registry.js';
import { DelayedRequests } from './operations/delayedRequests.js';
import { Delivery } from './operations/delivery.js';
import { registerStateGauges, registerStreamMetrics } from './operations/metrics.js';
import { StandingObservations } from './operations/standingObservations.js';
import { operatorRoutes } from './operations/operatorRoutes.js';
import { OperationStore } from './operations/store.js';

/** A part of the daemon that the controller starts and stops. */
interface Part {
  name: string;
  stop(): Promise<void>;
}

/** How long in-flight HTTP requests get to finish at shutdown before their connections are cut. */
const HTTP_DRAIN_MS = 3000;
/** How long Leshan requests in flight get to finish at shutdown; unfinished ones are then aborted. */
const DELIVERY_DRAIN_MS = 3000;
/** How long the outcomes of the aborted requests get to be recorded; what is left is requeued at the next start. */
const ABORTED_DRAIN_MS = 1000;
const PRUNE_INTERVAL_MS = 3600_000;

/**
 * Owns the daemon's parts: starts them in order (data dir, InfluxDB writer, ingest, HTTP) and stops them
 * in reverse, each stop on its own so one failure does not keep the others from stopping.
 */
export class Controller {
  readonly metrics: Registry = createMetricsRegistry();
  private readonly parts: Part[] = [];
  private server: Server | undefined;
  private stopping: Promise<number> | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly flags: { salvageStore?: boolean } = {},
  ) {}

  /** The address HTTP listens on (after start). */
  address(): AddressInfo {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('HTTP server is not listening');
    return address;
  }

  async start(): Promise<void> {
    const dataDir = path.resolve(this.config.dataDir);
    await mkdir(dataDir, { recursive: true });
    await access(dataDir, constants.W_OK);
    const lock = await lockDataDir(dataDir); // before anything reads or writes in it
    this.parts.push({ name: 'dataDir lock', stop: () => lock.release() });
    if (!lock.held) this.log.warn({ component: 'controller', dataDir }, 'no lock on the data directory on this platform: run one daemon per dataDir');
    this.log.info({ component: 'controller', dataDir }, 'data directory ready');

    const { writer, checks } = await this.startInflux(dataDir);
    const ingest = new Ingest(writer);
    const { ingress } = this.config.leshan;
    if (ingress === 'both') ingest.dedupeSources(new CrossSourceDedupe());
    const { store, registry, delayed, client } = await this.startOperations(dataDir, ingest, ingress !== 'posts');
    checks.store = () => store.status();
    const standing = new StandingObservations(this.config.operations.standingObservations, store, (ep) => registry.workQueued(ep), this.log.child({ component: 'operations' }));
    ingest.setActivity({
      dataReceived: (ep) => registry.dataReceived(ep),
      registrationEvent: (ep, event, value, info) => {
        registry.registrationEvent(ep, event, info?.queueMode);
        if (event === 'registered') void standing.registered(ep, value.value.type === 'TIME' ? value.value.value : 0, info?.objectLinks);
        if (event === 'deregistered') void delayed?.deregistered(ep);
      },
    });
    if (delayed) this.startEventStream(ingest, registry, delayed, client, checks);
    const leshan = createLeshanHandler({
      ingest,
      allowFrom: toBlockList(this.config.http.leshanAllowFrom),
      bodyLimitBytes: this.config.http.bodyLimitBytes,
      registry: this.metrics,
      log: this.log.child({ component: 'ingest' }),
      enabled: ingress !== 'events',
    });
    const routers = [
      healthRoutes(checks, this.metrics),
      operatorRoutes({ store, queued: (ep) => registry.workQueued(ep), now: Date.now }),
      endpointRoutes({ registry, endpointsWithOperations: () => store.endpoints(), pendingCount: (ep) => store.queuedCount(ep) }),
    ];
    await this.startHttp(routers, leshan);
  }

  /** Follows Leshan's event stream (`leshan.ingress` events or both), reconciling after each (re)connection. */
  private startEventStream(ingest: Ingest, registry: EndpointRegistry, delayed: DelayedRequests, client: LeshanClient, checks: HealthChecks): void {
    const log = this.log.child({ component: 'events' });
    const eventIngress = new EventIngress({
      ingest,
      endpoints: registry,
      delayed,
      listRegistrations: async () => parseRegistrations(await client.listClients()),
      log,
      metrics: this.metrics,
    });
    // refused events (malformed, invalid endpoint name) counted with the events EventIngress counts
    const events = this.metrics.getSingleMetric('lwm2m_backend_leshan_events_total') as Counter<'type'> | undefined;
    const stream = new LeshanEventStream({
      url: this.config.leshan.url,
      onEvent: eventIngress.handle,
      onConnected: () => eventIngress.reconcile().catch((err: unknown) => log.warn({ err: String(err) }, 'could not reconcile with Leshan')),
      onInvalid: () => events?.inc({ type: 'invalid' }),
      heartbeatTimeoutMs: this.config.leshan.heartbeatTimeoutMs,
      connectTimeoutMs: leshanDeadlineMs(this.config.leshan.requestTimeoutS),
      maxLineBytes: this.config.leshan.maxResponseBytes,
      log,
    });
    stream.start();
    this.parts.push({ name: 'event stream', stop: () => stream.stop() });
    registerStreamMetrics(this.metrics, stream);
    checks.leshanEvents = () => ({ ok: stream.connected, connected: stream.connected, reconnects: stream.reconnects, disconnectedMs: Math.round(stream.disconnectedMs()) });
  }

  /** The operation store, the Leshan client, delivery and the endpoint actors. */
  private async startOperations(
    dataDir: string,
    ingest: Ingest,
    withStream: boolean,
  ): Promise<{ store: OperationStore; registry: EndpointRegistry; client: LeshanClient; delayed: DelayedRequests | undefined }> {
    const log = this.log.child({ component: 'operations' });
    const { operations, leshan, endpoints } = this.config;
    const store = new OperationStore({
      file: path.join(dataDir, 'operations.json'),
      maxAttempts: operations.maxAttempts,
      pruneAfterMs: operations.pruneAfterMs,
      log,
      salvage: this.flags.salvageStore === true,
    });
    await store.open();
    this.parts.push({ name: 'operation store', stop: () => store.close() });
    const pruner = setInterval(() => void store.prune().catch((err: unknown) => log.error({ err }, 'prune failed')), PRUNE_INTERVAL_MS);
    pruner.unref();
    this.parts.push({ name: 'pruner', stop: async () => clearInterval(pruner) });

    const client = new LeshanClient({
      url: leshan.url,
      requestTimeoutS: leshan.requestTimeoutS,
      connections: leshan.maxConcurrent,
      maxResponseBytes: leshan.maxResponseBytes,
      log: this.log.child({ component: 'leshan' }),
    });
    // after the delivery drain: whatever is still in flight (a hanging Leshan, a reconciliation) is cut
    this.parts.push({ name: 'leshan client', stop: () => client.abort() });
    // requests Leshan queues itself are settled from its event stream, so only with the stream
    const delayed = withStream
      ? new DelayedRequests({
          apply: (op, attempt) => delivery.apply(op, attempt),
          settled: (ep) => registry.workQueued(ep),
          answerWaitMs: (leshan.requestTimeoutS + 10) * 1000,
          log,
        })
      : undefined;
    const delivery: Delivery = new Delivery({
      store,
      client,
      maxAttempts: operations.maxAttempts,
      maxConcurrent: leshan.maxConcurrent,
      now: Date.now,
      log,
      registry: this.metrics,
      onContent: (op, content) => ingest.acceptNode(op.ep, op.path, content),
      ...(delayed ? { delayed } : {}),
    });
    this.parts.push({
      name: 'delivery',
      stop: async () => {
        if (await delivery.drain(DELIVERY_DRAIN_MS)) return;
        // a hanging Leshan must not hold the stop: abort, record what that means (QUEUED, or FAILED for an
        // execute already sent) while the store is open, and leave the rest SENDING, requeued at the next start
        log.warn(`Leshan requests still in flight after ${DELIVERY_DRAIN_MS} ms at stop: aborted`);
        await client.abort();
        if (!(await delivery.drain(ABORTED_DRAIN_MS))) log.warn('aborted Leshan requests not recorded: left SENDING, requeued at the next start');
        delivery.close();
      },
    });
    const registry = new EndpointRegistry({
      awakeMs: endpoints.awakeMs,
      retryMs: endpoints.retryMs,
      hasQueued: (ep) => store.queuedCount(ep) > 0,
      deliverNext: delivery.deliverNext,
      log: this.log.child({ component: 'endpoints' }),
      maxKnown: endpoints.maxKnown,
      forgetAfterMs: endpoints.forgetAfterMs,
      metrics: this.metrics,
    });
    this.parts.push({ name: 'endpoint registry', stop: async () => registry.stop() });
    if (delayed) this.parts.push({ name: 'delayed requests', stop: async () => delayed.stop() });
    registerStateGauges(this.metrics, store, registry);
    return { store, registry, client, delayed };
  }

  private async startInflux(dataDir: string): Promise<{ writer: InfluxWriter; checks: HealthChecks }> {
    const config = this.config.influx;
    const log = this.log.child({ component: 'influx' });
    const api = resolveInfluxApi(this.config);
    const endpoint = createInfluxEndpoint(config, api, config.maxInFlight + 1);
    this.parts.push({ name: 'influx pool', stop: () => endpoint.close() });
    const connection = new InfluxConnection(endpoint, log);
    connection.start();
    this.parts.push({ name: 'influx connection', stop: () => connection.stop() });

    const segmentBytes = Math.min(4 * 1024 * 1024, config.spoolMaxBytes / 8);
    const spool = new Spool({ dir: path.join(dataDir, 'influx-spool'), maxBytes: config.spoolMaxBytes, segmentBytes, log });
    await spool.open();
    const writer = new InfluxWriter({
      endpoint,
      connection,
      spool,
      log,
      registry: this.metrics,
      batchSize: config.batchSize,
      flushIntervalMs: config.flushIntervalMs,
      maxInFlight: config.maxInFlight,
    });
    writer.start();
    this.parts.push({ name: 'influx writer', stop: () => writer.stop() });

    const checks: HealthChecks = {
      influx: () => {
        const status = connection.snapshot();
        return {
          ok: status.state === 'up',
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

  /** Koa serves everything but the Leshan posts, which `fastPath` takes first. */
  private async startHttp(routers: Router[], fastPath: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<void> {
    const log = this.log.child({ component: 'http' });
    // the operator API: authenticated before its body is read
    const app = createApp({ log, bodyLimitBytes: this.config.http.bodyLimitBytes, routers, protect: { prefix: '/api', auth: bearerAuth(this.config.auth.token) } });
    const koa = app.callback();
    const server = createServer((req, res) => {
      if (!fastPath(req, res)) void koa(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.http.port, this.config.http.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log.error({ err }, 'HTTP server error'));
    this.parts.push({ name: 'http', stop: () => this.stopHttp(server) });
    const { address, port } = this.address();
    log.info({ host: address, port }, 'listening');
  }

  private async stopHttp(server: Server): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_MS);
    await closed;
    clearTimeout(timer);
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
          this.log.error({ component: 'controller', part: part.name, err }, 'stop failed');
        }
      }
      this.parts.length = 0;
      return code;
    })();
    return this.stopping;
  }
}

import path from 'node:path';
import type Router from '@koa/router';
import { endpointRoutes } from '../endpoints/endpointRoutes.js';
import { EndpointRegistry } from '../endpoints/registry.js';
import { CrossSourceDedupe } from '../ingest/dedupe.js';
import { Ingest, type LineSink } from '../ingest/ingest.js';
import { LeshanClient, leshanDeadlineMs } from '../leshan/client.js';
import { parseRegistrations } from '../leshan/events.js';
import { ObjectSpecs, tellingObjectSpecs } from '../leshan/objectSpecs.js';
import { ActivityEffects } from '../operations/activityEffects.js';
import { DelayedRequests } from '../operations/delayedRequests.js';
import { Delivery } from '../operations/delivery.js';
import { registerStateGauges } from '../operations/metrics.js';
import { KnownEndpoints } from '../operations/knownEndpoints.js';
import { LeshanWatch } from '../operations/leshanWatch.js';
import { operatorRoutes } from '../operations/operatorRoutes.js';
import { StandingObservations } from '../operations/standingObservations.js';
import { OperationStore } from '../operations/store.js';
import { registerStoreMetrics } from '../operations/store/storeMetrics.js';
import { LatePort, type AssemblyContext, type Checks } from './context.js';
import { assembleFirmware } from './firmware.js';
import { errorFields } from '../log/errorText.js';
import { withoutCredentials } from '../log/redact.js';

/** How long Leshan requests in flight get to finish at shutdown; unfinished ones are then aborted. */
const DELIVERY_DRAIN_MS = 3000;
/** How long the outcomes of the aborted requests get to be recorded; what is left is requeued at the next start. */
const ABORTED_DRAIN_MS = 1000;
const PRUNE_INTERVAL_MS = 3600_000;

export interface OperationsAssembly {
  /** Where Leshan's values and registrations go (posts and the event stream). */
  ingest: Ingest;
  /** The one path of every sign of life from an endpoint. */
  activity: ActivityEffects;
  client: LeshanClient;
  /** Requests Leshan holds for sleeping devices (only with the event stream, which settles them). */
  delayed: DelayedRequests | undefined;
  routers: Router[];
  checks: Checks;
}

/**
 * Operations and their delivery: the store, the Leshan client, the endpoint actors, delivery, and the
 * ingest that feeds the actors. The endpoint registry and delivery need each other (the registry asks
 * delivery to send; delivery and Leshan's held requests tell the registry when a queue may go on): the
 * registry reaches delivery through one late-bound port.
 */
export async function assembleOperations(ctx: AssemblyContext, parts: { lines: LineSink }): Promise<OperationsAssembly> {
  const log = ctx.log.child({ component: 'operations' });
  const { operations, leshan, endpoints } = ctx.config;
  const withStream = leshan.ingress !== 'posts';

  const store = new OperationStore({
    file: path.join(ctx.dataDir, 'operations.json'),
    maxAttempts: operations.maxAttempts,
    pruneAfterMs: operations.pruneAfterMs,
    log,
    salvage: ctx.flags.salvageStore === true,
  });
  await store.open();
  ctx.started({ name: 'operation store', stop: () => store.close() });
  const pruner = setInterval(
    () => void store.prune().catch((err: unknown) => log.error(errorFields(err, { stack: true }), 'prune failed')),
    PRUNE_INTERVAL_MS,
  );
  pruner.unref();
  ctx.started({ name: 'pruner', stop: async () => clearInterval(pruner) });

  const client = new LeshanClient({
    url: leshan.url,
    requestTimeoutS: leshan.requestTimeoutS,
    connections: leshan.maxConcurrent,
    maxResponseBytes: leshan.maxResponseBytes,
    writeFormat: leshan.writeFormat,
    log: ctx.log.child({ component: 'leshan' }),
  });
  // after the delivery drain: whatever is still in flight (a hanging Leshan, a reconciliation) is cut
  ctx.started({ name: 'leshan client', stop: () => client.abort() });

  const delivery = new LatePort<Delivery>('delivery');
  const registry = new EndpointRegistry({
    awakeMs: endpoints.awakeMs,
    retryMs: endpoints.retryMs,
    hasQueued: (ep) => store.queuedCount(ep) > 0,
    deliverNext: (ep) => delivery.get().deliverNext(ep),
    log: ctx.log.child({ component: 'endpoints' }),
    maxKnown: endpoints.maxKnown,
    forgetAfterMs: endpoints.forgetAfterMs,
    metrics: ctx.metrics,
  });
  const delayed = withStream
    ? new DelayedRequests({
        apply: (op, attempt) => delivery.get().apply(op, attempt),
        settled: (ep) => registry.workQueued(ep),
        answerWaitMs: (leshan.requestTimeoutS + 10) * 1000,
        log,
      })
    : undefined;
  const firmware = await assembleFirmware(ctx, {
    store,
    lines: parts.lines,
    queued: (ep) => registry.workQueued(ep),
    known: (ep) => known.check(ep),
    endpointNames: () => [...registry.list().map((e) => e.ep), ...store.endpoints()],
  });
  const standing = new StandingObservations({ list: operations.standingObservations, store, queued: (ep) => registry.workQueued(ep), log });
  const activity = new ActivityEffects({ registry, standing, writeFormats: client.writeFormats, ...(delayed && { delayed }) });
  // names of vendor objects, from the models Leshan holds for a registration (docs/object-models.md)
  const specs = new ObjectSpecs({
    url: leshan.url,
    deadlineMs: leshanDeadlineMs(leshan.requestTimeoutS),
    maxResponseBytes: leshan.maxResponseBytes,
    log: ctx.log.child({ component: 'objectspecs' }),
  });
  ctx.started({ name: 'object specs', stop: async () => specs.stop() });
  void client.listClients().then(
    (list) => parseRegistrations(list).forEach((r) => specs.registered(r.endpoint, r.objectLinks)),
    () => undefined, // Leshan not up yet: the next registrations tell
  );
  const ingest = new Ingest({
    sink: parts.lines,
    activity: tellingObjectSpecs(activity, specs),
    maxFutureSkewMs: ctx.config.ingest.maxFutureSkewMs,
    watch: firmware.watch,
    ...(leshan.ingress === 'both' && { dedupe: new CrossSourceDedupe() }),
  });

  const sender = new Delivery({
    store: firmware.watchSettlements(store),
    client,
    maxAttempts: operations.maxAttempts,
    maxConcurrent: leshan.maxConcurrent,
    now: Date.now,
    log,
    registry: ctx.metrics,
    onContent: (op, content) => ingest.acceptNode(op.ep, op.path, content, 'read'),
    ...(delayed && { delayed }),
  });
  delivery.bind(sender);
  ctx.started({
    name: 'delivery',
    stop: async () => {
      if (await sender.drain(DELIVERY_DRAIN_MS)) return;
      // a hanging Leshan must not hold the stop: abort, record what that means (QUEUED, or FAILED for an
      // execute already sent) while the store is open, and leave the rest SENDING, requeued at the next start
      log.warn(`Leshan requests still in flight after ${DELIVERY_DRAIN_MS} ms at stop: aborted`);
      await client.abort();
      if (!(await sender.drain(ABORTED_DRAIN_MS)))
        log.warn('aborted Leshan requests not recorded: left SENDING, requeued at the next start');
      sender.close();
    },
  });
  ctx.started({ name: 'endpoint registry', stop: async () => registry.stop() });
  if (delayed) ctx.started({ name: 'delayed requests', stop: async () => delayed.stop() });
  registerStateGauges(ctx.metrics, store, registry);
  registerStoreMetrics(ctx.metrics, store);

  const leshanWatch = new LeshanWatch({
    url: withoutCredentials(leshan.url),
    listClients: () => client.listClients(),
    ingress: leshan.ingress,
    postsAccepted: () => ingest.postsAccepted,
    log,
    metrics: ctx.metrics,
  });
  leshanWatch.start();
  ctx.started({ name: 'Leshan watch', stop: async () => leshanWatch.stop() });

  const known = new KnownEndpoints({
    seen: (ep) => registry.has(ep) || store.list({ ep, limit: 1 }).items.length > 0,
    expected: endpoints.expected,
    isRegistered: (ep) => client.isRegistered(ep),
  });
  const routers = [
    operatorRoutes({ store, queued: (ep) => registry.workQueued(ep), now: Date.now, known: (ep) => known.check(ep), log }),
    endpointRoutes({ registry, endpointsWithOperations: () => store.endpoints(), pendingCount: (ep) => store.queuedCount(ep) }),
    ...firmware.routers,
  ];
  firmware.start();
  return { ingest, activity, client, delayed, routers, checks: { store: () => store.status(), leshan: () => leshanWatch.check() } };
}

/**
 * Firmware updates (docs/firmware.md): their records in the operation store (a firmware.json of an earlier
 * build imported once), the driver of their machines, and its feeds - the outcomes of operations
 * (delivery's settlements, seen through the store it is handed), the values and registrations the ingest
 * takes, and a sweep for what went unheard (an operator cancelling one of the workflow's operations).
 */
import path from 'node:path';
import type Router from '@koa/router';
import { importFirmwareFile, StoreFirmwareRepository } from '../firmware/storeRepository.js';
import { FirmwareDriver } from '../firmware/driver.js';
import { FirmwareCampaigns } from '../firmware/campaigns.js';
import { firmwareRoutes } from '../firmware/routes.js';
import { registerFirmwareMetrics } from '../firmware/metrics.js';
import { firmwareLine } from '../firmware/points.js';
import { pruneFirmware } from '../firmware/prune.js';
import { errorFields } from '../log/errorText.js';
import { NanoClock } from '../ingest/nanoClock.js';
import type { LineSink } from '../ingest/ingest.js';
import type { ResourceValue } from '../lwm2m/node.js';
import { presenceEventOf, registrationEventOf, REGISTRATION_OBJECT } from '../lwm2m/registrationObject.js';
import type { DeliveryStore } from '../operations/delivery.js';
import type { EndpointKnowledge } from '../operations/knownEndpoints.js';
import type { OperationStore } from '../operations/store.js';
import type { AssemblyContext } from './context.js';

const SWEEP_INTERVAL_MS = 10_000;
const PRUNE_INTERVAL_MS = 3600_000;

export interface FirmwareAssembly {
  driver: FirmwareDriver;
  routers: Router[];
  /** For the ingest: every post's values (5/0/3, 5/0/5, 3/0/3 and registrations are what matter). */
  watch(ep: string, values: readonly ResourceValue[]): void;
  /** The store delivery is handed: each settlement is told to the workflow once it is recorded. */
  watchSettlements(store: OperationStore): DeliveryStore;
  /** Resumes the stored updates (once delivery is wired). */
  start(): void;
}

export async function assembleFirmware(
  ctx: AssemblyContext,
  parts: {
    store: OperationStore;
    /** Where each step's point goes (the InfluxDB writer). */
    lines: LineSink;
    queued(ep: string): void;
    known?: (ep: string) => Promise<EndpointKnowledge>;
    /** Endpoint names a campaign's `match` is taken from. */
    endpointNames: () => string[];
  },
): Promise<FirmwareAssembly> {
  const log = ctx.log.child({ component: 'firmware' });
  const repository = new StoreFirmwareRepository(parts.store);
  const imported = await importFirmwareFile(path.join(ctx.dataDir, 'firmware.json'), parts.store);
  if (imported) log.info(imported, 'firmware.json imported into the operation store (renamed firmware.json.imported)');
  const counted = registerFirmwareMetrics(ctx.metrics, repository);
  const clock = new NanoClock();
  const driver = new FirmwareDriver({
    repository,
    operations: parts.store,
    queued: parts.queued,
    timeoutMs: ctx.config.firmware.timeoutMs,
    maxRetries: ctx.config.firmware.maxRetries,
    log,
    changed: (update, previous) => {
      // a new step, a retry, the end: not the workflow's bookkeeping in between
      if (!previous || previous.status !== update.status || previous.step !== update.step || previous.attempts !== update.attempts) {
        counted(update);
        parts.lines.write(firmwareLine(update, clock.next()));
      }
      campaigns.changed(update);
    },
  });
  const campaigns = new FirmwareCampaigns({ repository, driver, log });
  ctx.started({ name: 'firmware updates', stop: () => driver.stop() });

  const watch = (ep: string, values: readonly ResourceValue[]): void => {
    driver.values(ep, values);
    for (const v of values) {
      if (v.objectId !== REGISTRATION_OBJECT) continue;
      const event = registrationEventOf(v);
      if (event) driver.registration(ep, event);
      const presence = presenceEventOf(v);
      if (presence) driver.presence(ep, presence === 'awake');
    }
  };

  const watchSettlements = (store: OperationStore): DeliveryStore => ({
    nextQueued: (ep) => store.nextQueued(ep),
    get: (id) => store.get(id),
    markSending: (id) => store.markSending(id),
    flush: () => store.flush(),
    get available() {
      return store.available;
    },
    whenWritable: () => store.whenWritable(),
    settle: async (id, patch) => {
      const op = await store.settle(id, patch);
      driver.operationChanged(op);
      return op;
    },
    expire: async (id) => {
      const op = await store.expire(id);
      driver.operationChanged(op);
      return op;
    },
  });

  return {
    driver,
    routers: [
      firmwareRoutes({ driver, repository, campaigns, endpointNames: parts.endpointNames, ...(parts.known && { known: parts.known }) }),
    ],
    watch,
    watchSettlements,
    start() {
      const resumed = driver.resume();
      if (resumed > 0) log.info({ resumed }, 'firmware updates resumed');
      void campaigns.resume();
      const sweeper = setInterval(() => driver.sweep(), SWEEP_INTERVAL_MS);
      sweeper.unref();
      ctx.started({ name: 'firmware sweep', stop: async () => clearInterval(sweeper) });
      const prune = () =>
        pruneFirmware(repository, Date.now() - ctx.config.firmware.pruneAfterMs).then(
          (gone) => {
            if (gone.updates + gone.campaigns > 0) log.info(gone, 'ended firmware updates pruned');
          },
          (err: unknown) => log.error(errorFields(err), 'firmware prune failed'),
        );
      void prune();
      const pruner = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
      pruner.unref();
      ctx.started({ name: 'firmware pruner', stop: async () => clearInterval(pruner) });
    },
  };
}

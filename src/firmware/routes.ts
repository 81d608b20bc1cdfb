/**
 * The operator API of firmware updates (README: Firmware updates): start one on an endpoint, get, list,
 * cancel. Auth, errors, paging and Idempotency-Key as for operations.
 */
import Router from '@koa/router';
import { badRequest, conflict, HttpError, notFound } from '../http/errors.js';
import { pageParams, singleParam } from '../http/paging.js';
import { FieldError } from '../lwm2m/fieldError.js';
import { LIST_CURSOR } from '../operations/operation.js';
import type { EndpointKnowledge } from '../operations/knownEndpoints.js';
import { FirmwareConflictError, FirmwareEndedError, type FirmwareDriver } from './driver.js';
import type { FirmwareRepository } from './repository.js';
import { FIRMWARE_STATUSES, viewOf, type FirmwareStatus, type FirmwareUpdate, type FirmwareUpdateView } from './update.js';
import { validateCampaign, validateFirmwareStart } from './validate.js';
import { CampaignEndedError, type FirmwareCampaigns } from './campaigns.js';

export interface FirmwareRoutesOptions {
  driver: FirmwareDriver;
  repository: FirmwareRepository;
  /** Whether the endpoint is one the operator can mean (operations/knownEndpoints.ts). */
  known?: (ep: string) => Promise<EndpointKnowledge>;
  campaigns: FirmwareCampaigns;
  /** Endpoint names a campaign's `match` is taken from (those the daemon has seen or has operations for). */
  endpointNames: () => string[];
}

function statusOf(query: Record<string, unknown>): FirmwareStatus | undefined {
  const status = singleParam(query, 'status');
  if (status === undefined) return undefined;
  if (!FIRMWARE_STATUSES.includes(status as FirmwareStatus)) {
    throw badRequest('invalid_query', `status must be one of ${FIRMWARE_STATUSES.join(', ')}`, { field: 'status' });
  }
  return status as FirmwareStatus;
}

/** One page of `updates` (oldest first) after the cursor. */
function page(updates: FirmwareUpdate[], query: Record<string, unknown>): { items: FirmwareUpdateView[]; next?: string } {
  const { limit, cursor } = pageParams(query);
  if (cursor !== undefined && !LIST_CURSOR.test(cursor)) {
    throw badRequest('invalid_query', 'cursor is not one this API gave out', { field: 'cursor' });
  }
  const after = cursor === undefined ? 0 : Number(cursor);
  const rest = updates.filter((u) => Number(u.id) > after);
  const items = rest.slice(0, limit).map(viewOf);
  return rest.length > limit ? { items, next: items.at(-1)!.id } : { items };
}

/** What a cancel gave; 409 when what it names has ended, 404 (`missing`) when there is no such thing. */
async function cancelled<T>(cancel: () => Promise<T | undefined>, missing: string): Promise<T> {
  let result;
  try {
    result = await cancel();
  } catch (err) {
    if (err instanceof FirmwareEndedError || err instanceof CampaignEndedError) throw conflict(err.message);
    throw err;
  }
  if (result === undefined) throw notFound(missing);
  return result;
}

export function firmwareRoutes({ driver, repository, known, campaigns, endpointNames }: FirmwareRoutesOptions): Router {
  const router = new Router({ prefix: '/api' });

  // before /firmware/:id, which would take "campaigns" for an id
  router.post('/firmware/campaigns', async (ctx) => {
    let input;
    try {
      input = validateCampaign(ctx.request.body);
    } catch (err) {
      if (err instanceof FieldError) throw badRequest('invalid_campaign', `${err.field}: ${err.message}`, { field: err.field });
      throw err;
    }
    const prefix = input.match?.slice(0, -1);
    const endpoints = input.endpoints ?? [...new Set(endpointNames())].filter((ep) => ep.startsWith(prefix!)).sort();
    if (endpoints.length === 0)
      throw new HttpError(404, 'no_endpoints', `no endpoint the daemon knows matches ${input.match}`, { field: 'match' });
    const view = await campaigns.create({ ...input, endpoints });
    ctx.status = 201;
    ctx.set('Location', `/api/firmware/campaigns/${view.id}`);
    ctx.body = view;
  });

  router.get('/firmware/campaigns', (ctx) => {
    const query = ctx.query as Record<string, unknown>;
    const { limit, cursor } = pageParams(query);
    if (cursor !== undefined && !LIST_CURSOR.test(cursor))
      throw badRequest('invalid_query', 'cursor is not one this API gave out', { field: 'cursor' });
    const rest = repository.allCampaigns().filter((c) => Number(c.id) > Number(cursor ?? 0));
    const items = rest.slice(0, limit).map((c) => campaigns.view(c));
    ctx.body = rest.length > limit ? { items, next: items.at(-1)!.id } : { items };
  });

  router.get('/firmware/campaigns/:id', (ctx) => {
    const campaign = repository.getCampaign(ctx.params.id!);
    if (!campaign) throw notFound(`no firmware campaign ${ctx.params.id}`);
    ctx.body = campaigns.view(campaign);
  });

  router.delete('/firmware/campaigns/:id', async (ctx) => {
    ctx.body = await cancelled(() => campaigns.cancel(ctx.params.id!), `no firmware campaign ${ctx.params.id}`);
  });

  router.post('/endpoints/:ep/firmware', async (ctx) => {
    let input;
    try {
      input = validateFirmwareStart(ctx.params.ep!, ctx.request.body, ctx.get('idempotency-key') || undefined);
    } catch (err) {
      if (err instanceof FieldError) throw badRequest('invalid_firmware_update', `${err.field}: ${err.message}`, { field: err.field });
      throw err;
    }
    const unseenAllowed = singleParam(ctx.query as Record<string, unknown>, 'allowUnseen') === 'true';
    // an endpoint with updates is one the operator has meant before
    const hasUpdates = driver.runningOn(input.ep) !== undefined || driver.replayOf(input.ep, input.idempotencyKey) !== undefined;
    if (known && !unseenAllowed && !hasUpdates && (await known(input.ep)) === 'unknown') {
      throw new HttpError(
        404,
        'unknown_endpoint',
        `endpoint ${input.ep} has never been seen: check the name, or start the update anyway with ?allowUnseen=true`,
        { field: 'ep' },
      );
    }
    let started;
    try {
      started = await driver.start(input);
    } catch (err) {
      if (err instanceof FirmwareConflictError) {
        throw new HttpError(409, 'conflict', `firmware update ${err.runningId} is running on ${input.ep}: one at a time`, {
          runningId: err.runningId,
        });
      }
      throw err;
    }
    const { update, replayed } = started;
    if (replayed && (update.uri !== input.uri || update.version !== input.version)) {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        `Idempotency-Key was already used for firmware update ${update.id}, with another request`,
      );
    }
    ctx.status = replayed ? 200 : 201;
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.set('Location', `/api/firmware/${update.id}`);
    ctx.body = viewOf(repository.get(update.id) ?? update);
  });

  router.get('/endpoints/:ep/firmware', (ctx) => {
    const query = ctx.query as Record<string, unknown>;
    const status = statusOf(query);
    const ep = ctx.params.ep!;
    ctx.body = page(
      repository.all().filter((u) => u.ep === ep && (!status || u.status === status)),
      query,
    );
  });

  router.get('/firmware', (ctx) => {
    const query = ctx.query as Record<string, unknown>;
    const status = statusOf(query);
    const ep = singleParam(query, 'ep');
    ctx.body = page(
      repository.all().filter((u) => (ep === undefined || u.ep === ep) && (!status || u.status === status)),
      query,
    );
  });

  router.get('/firmware/:id', (ctx) => {
    const update = repository.get(ctx.params.id!);
    if (!update) throw notFound(`no firmware update ${ctx.params.id}`);
    ctx.body = viewOf(update);
  });

  router.delete('/firmware/:id', async (ctx) => {
    ctx.body = viewOf(await cancelled(() => driver.cancel(ctx.params.id!), `no firmware update ${ctx.params.id}`));
  });

  return router;
}

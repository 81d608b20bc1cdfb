import Router from '@koa/router';
import { badRequest, conflict, HttpError, notFound } from '../http/errors.js';
import { pageParams, singleParam } from '../http/paging.js';
import { LIST_CURSOR, OPERATION_STATUSES, type CreateOperationInput, type Operation, type OperationStatus } from './operation.js';
import {
  StoreClosedError,
  StoreConflictError,
  StoreNotFoundError,
  StoreUnavailableError,
  type ListQuery,
  type OperationStore,
} from './store.js';
import { FieldError } from '../lwm2m/fieldError.js';
import { validateCreate } from './validate.js';
import type { EndpointKnowledge } from './knownEndpoints.js';
import type { LogSink } from '../log/logger.js';

export interface OperatorRoutesOptions {
  store: OperationStore;
  /** An operation was queued for `ep` (the endpoint registry sends it at once if the device is awake). */
  queued(ep: string): void;
  now: () => number;
  /** Whether the endpoint is one the operator can mean (knownEndpoints.ts); without it every name is taken. */
  known?: (ep: string) => Promise<EndpointKnowledge>;
  log?: LogSink;
}

/** `limit` and `cursor` of a list of operations, checked (a cursor is an operation id, or 0). */
function pageOf(query: Record<string, unknown>): { limit: number; after?: string } {
  const { limit, cursor } = pageParams(query);
  if (cursor === undefined) return { limit };
  if (!LIST_CURSOR.test(cursor)) throw badRequest('invalid_query', 'cursor is not one this API gave out', { field: 'cursor' });
  return { limit, after: cursor };
}

/** Whether a replayed Idempotency-Key comes with the request that created the operation (expiry aside). */
function sameRequest(op: Operation, input: CreateOperationInput): boolean {
  return (
    op.kind === input.kind &&
    op.path === input.path &&
    op.type === input.type &&
    op.args === input.args &&
    JSON.stringify(op.value) === JSON.stringify(input.value)
  );
}

/** `?status=queued,FAILED` or `?status=QUEUED&status=FAILED`: the statuses asked for, any case; undefined for all. */
function statusesOf(query: Record<string, unknown>): ReadonlySet<OperationStatus> | undefined {
  const raw = query.status;
  if (raw === undefined) return undefined;
  const given = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(','));
  const statuses = new Set<OperationStatus>();
  for (const value of given) {
    const status = value.trim().toUpperCase() as OperationStatus;
    if (!OPERATION_STATUSES.includes(status)) {
      throw badRequest('invalid_query', `status "${value}" is not one of ${OPERATION_STATUSES.join(', ')} (any case, comma-separated)`, {
        field: 'status',
      });
    }
    statuses.add(status);
  }
  return statuses;
}

/** `?order=oldest` (the default) or `newest`. */
function orderOf(query: Record<string, unknown>): 'oldest' | 'newest' {
  const order = singleParam(query, 'order');
  if (order === undefined || order === 'oldest' || order === 'newest') return order ?? 'oldest';
  throw badRequest('invalid_query', 'order must be oldest or newest', { field: 'order' });
}

/** The list query of a request: statuses, order and page. */
function listQueryOf(query: Record<string, unknown>): Omit<ListQuery, 'ep'> {
  const statuses = statusesOf(query);
  return { ...(statuses && { statuses }), order: orderOf(query), ...pageOf(query) };
}

/**
 * The operator API for operations (README: Endpoint operations): queue, list, filter, get, cancel.
 * Lists are `{"items":[...],"next":"<cursor>"}`, oldest first unless `?order=newest`, filtered by `?status=` (one or
 * more, any case); `next` is absent on the last page.
 */
export function operatorRoutes({ store, queued, now, known, log }: OperatorRoutesOptions): Router {
  const router = new Router({ prefix: '/api' });
  // a change the store could not write was undone: say so, and when to try again
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof StoreUnavailableError || err instanceof StoreClosedError) {
        ctx.set('Retry-After', '5');
        throw new HttpError(503, err instanceof StoreClosedError ? 'shutting_down' : 'store_unavailable', err.message);
      }
      throw err;
    }
  });

  router.post('/endpoints/:ep/operations', async (ctx) => {
    let input;
    try {
      input = validateCreate(ctx.params.ep!, ctx.request.body, ctx.get('idempotency-key') || undefined, now());
    } catch (err) {
      if (err instanceof FieldError) throw badRequest('invalid_operation', `${err.field}: ${err.message}`, { field: err.field });
      throw err;
    }
    if (known && singleParam(ctx.query as Record<string, unknown>, 'allowUnseen') !== 'true') {
      const knowledge = await known(input.ep);
      if (knowledge === 'unknown') {
        throw new HttpError(
          404,
          'unknown_endpoint',
          `endpoint ${input.ep} has never been seen: no registration since the daemon started, no operations, not registered in Leshan, ` +
            'not in endpoints.expected. Check the name, or queue for it anyway with ?allowUnseen=true',
          { field: 'ep' },
        );
      }
      if (knowledge === 'unverified') log?.info({ ep: input.ep }, 'queued for an endpoint not seen yet (Leshan could not be asked)');
    }
    const { operation, replayed } = await store.create(input);
    if (replayed && !sameRequest(operation, input)) {
      throw new HttpError(
        422,
        'idempotency_key_reused',
        `Idempotency-Key was already used for operation ${operation.id}, with another request`,
      );
    }
    if (!replayed) queued(operation.ep);
    ctx.status = replayed ? 200 : 201;
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    ctx.set('Location', `/api/operations/${operation.id}`);
    ctx.body = operation;
  });

  router.get('/endpoints/:ep/operations', (ctx) => {
    ctx.body = store.list({ ep: ctx.params.ep!, ...listQueryOf(ctx.query as Record<string, unknown>) });
  });

  router.get('/operations', (ctx) => {
    const query = ctx.query as Record<string, unknown>;
    const ep = singleParam(query, 'ep');
    ctx.body = store.list({ ...(ep !== undefined ? { ep } : {}), ...listQueryOf(query) });
  });

  router.get('/operations/:id', (ctx) => {
    const op = store.get(ctx.params.id!);
    if (!op) throw notFound(`no operation ${ctx.params.id}`);
    ctx.body = op;
  });

  router.delete('/operations/:id', async (ctx) => {
    try {
      ctx.body = await store.cancel(ctx.params.id!);
    } catch (err) {
      if (err instanceof StoreNotFoundError) throw notFound(`no operation ${ctx.params.id}`);
      if (err instanceof StoreConflictError) throw conflict(err.message);
      throw err;
    }
  });

  return router;
}

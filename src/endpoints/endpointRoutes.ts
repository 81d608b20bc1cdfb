import Router from '@koa/router';
import { notFound } from '../http/errors.js';
import { pageParams } from '../http/paging.js';
import type { EndpointRegistry, EndpointView } from './registry.js';

export interface EndpointRoutesOptions {
  registry: EndpointRegistry;
  /** Endpoints that have operations (known to the store even if not seen since the daemon started). */
  endpointsWithOperations(): string[];
  pendingCount(ep: string): number;
}

/**
 * `GET /api/endpoints` (paginated by name: `?limit=&cursor=`) and `GET /api/endpoints/{ep}`: state,
 * last registration event and pending (queued) operations.
 */
export function endpointRoutes({ registry, endpointsWithOperations, pendingCount }: EndpointRoutesOptions): Router {
  const router = new Router({ prefix: '/api' });
  const present = (ep: string): EndpointView & { pending: number } => ({
    ...(registry.view(ep) ?? { ep, state: 'offline', registered: false, queueMode: true }),
    pending: pendingCount(ep),
  });

  router.get('/endpoints', (ctx) => {
    const { limit, cursor } = pageParams(ctx.query);
    const names = [...new Set([...registry.list().map((v) => v.ep), ...endpointsWithOperations()])].sort();
    const start = cursor === undefined ? 0 : names.findIndex((n) => n > cursor);
    const page = start < 0 ? [] : names.slice(start, start + limit);
    const more = start >= 0 && start + limit < names.length;
    ctx.body = { items: page.map(present), ...(more ? { next: page.at(-1) } : {}) };
  });

  router.get('/endpoints/:ep', (ctx) => {
    const ep = ctx.params.ep!;
    if (!registry.has(ep) && !endpointsWithOperations().includes(ep)) {
      throw notFound(`endpoint ${ep} has not been seen and has no operations`);
    }
    ctx.body = present(ep);
  });
  return router;
}

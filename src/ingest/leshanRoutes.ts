import type { BlockList } from 'node:net';
import Router from '@koa/router';
import type { Context } from 'koa';
import { Counter, type Registry } from 'prom-client';
import { badRequest, HttpError } from '../http/errors.js';
import type { Ingest } from './ingest.js';
import { parseCompositePost, parseSinglePost, PostError, type ParsedPost } from './parsePost.js';

/** The address a request came from, with IPv4-mapped IPv6 (`::ffff:127.0.0.1`) unwrapped. */
function remoteAddress(ctx: Context): { address: string; family: 'ipv4' | 'ipv6' } {
  const raw = ctx.req.socket.remoteAddress ?? '';
  if (raw.startsWith('::ffff:') && raw.includes('.')) return { address: raw.slice(7), family: 'ipv4' };
  return { address: raw, family: raw.includes(':') ? 'ipv6' : 'ipv4' };
}

/**
 * `POST /leshan_api/resource/single` and `/composite`: the seed backend's routes that the forked Leshan
 * posts to. Only addresses in `http.leshanAllowFrom` may post (the fork cannot send a token). 201 with
 * `{"accepted":N}` once the values are queued for InfluxDB; 4xx naming the field otherwise.
 */
export function leshanRoutes(ingest: Ingest, allowFrom: BlockList, registry: Registry): Router {
  const posts = new Counter({
    name: 'lwm2m_backend_ingest_posts_total',
    help: 'Posts from Leshan by route and HTTP status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const values = new Counter({
    name: 'lwm2m_backend_ingest_values_total',
    help: 'Values accepted from Leshan by route',
    labelNames: ['route'],
    registers: [registry],
  });

  const handle = (route: 'single' | 'composite', parse: (body: unknown) => ParsedPost) => (ctx: Context) => {
    try {
      const { address, family } = remoteAddress(ctx);
      if (!allowFrom.check(address, family)) {
        throw new HttpError(403, 'forbidden', `${address} may not post to /leshan_api (see http.leshanAllowFrom)`);
      }
      if (!ctx.is('application/json')) {
        throw new HttpError(415, 'unsupported_media_type', 'Leshan posts must be application/json');
      }
      let post: ParsedPost;
      try {
        post = parse(ctx.request.body);
      } catch (err) {
        if (err instanceof PostError) throw badRequest('invalid_post', `${err.field}: ${err.message}`, { field: err.field });
        throw err;
      }
      const n = ingest.accept(post);
      values.inc({ route }, n);
      posts.inc({ route, status: 201 });
      ctx.status = 201;
      ctx.body = { accepted: n };
    } catch (err) {
      posts.inc({ route, status: err instanceof HttpError ? err.status : 500 });
      throw err;
    }
  };

  const router = new Router({ prefix: '/leshan_api/resource' });
  router.post('/single', handle('single', parseSinglePost));
  router.post('/composite', handle('composite', parseCompositePost));
  return router;
}

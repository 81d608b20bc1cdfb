import Koa, { type Middleware } from 'koa';
import bodyParser from 'koa-bodyparser';
import type Router from '@koa/router';
import type { Registry } from 'prom-client';
import type { LogSink } from '../log/logger.js';
import { errorHandler, HttpError } from './errors.js';
import { requestMetrics } from './requestMetrics.js';

export interface AppOptions {
  log: LogSink;
  bodyLimitBytes: number;
  routers: Router[];
  /** Where the request metrics go (none without it). */
  metrics?: Registry;
  /** Requests under `prefix` must pass `auth` before anything else is done with them (their body is not even read). */
  protect?: { prefix: string; auth: Middleware };
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** 415 for a body that is not JSON (a request without a body passes: `ctx.is` is null then). */
const requireJsonBody: Middleware = (ctx, next) => {
  if (BODY_METHODS.has(ctx.method) && ctx.is('application/json', '+json') === false) {
    const type = ctx.get('Content-Type');
    throw new HttpError(
      415,
      'unsupported_media_type',
      `the request body must be JSON (Content-Type: application/json), not ${type ? `"${type}"` : 'a body without a Content-Type'}`,
    );
  }
  return next();
};

/**
 * The Koa application: one error handler, authentication of the protected paths, 415 for a body that is
 * not JSON, a JSON body parser with a size limit, then the routers.
 */
export function createApp({ log, bodyLimitBytes, routers, protect, metrics }: AppOptions): Koa {
  const app = new Koa();
  app.silent = true; // errorHandler logs what matters; Koa's default handler would print stacks to stderr
  if (metrics) app.use(requestMetrics(metrics)); // outside the error handler: it sees the status the client gets
  app.use(errorHandler(log));
  if (protect) {
    const { prefix, auth } = protect;
    app.use((ctx, next) => (ctx.path === prefix || ctx.path.startsWith(`${prefix}/`) ? auth(ctx, next) : next()));
  }
  app.use(requireJsonBody);
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: String(bodyLimitBytes),
      strict: true,
    }),
  );
  for (const router of routers) {
    app.use(router.routes());
    // not `throw`: the router then sets `Allow` on a 405 (errorHandler turns the empty answer into JSON)
    app.use(router.allowedMethods());
  }
  return app;
}

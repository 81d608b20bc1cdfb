import Koa, { type Middleware } from 'koa';
import bodyParser from 'koa-bodyparser';
import type Router from '@koa/router';
import type { LogSink } from '../log/logger.js';
import { errorHandler } from './errors.js';

export interface AppOptions {
  log: LogSink;
  bodyLimitBytes: number;
  routers: Router[];
  /** Requests under `prefix` must pass `auth` before anything else is done with them (their body is not even read). */
  protect?: { prefix: string; auth: Middleware };
}

/**
 * The Koa application: one error handler, authentication of the protected paths, a JSON body parser
 * with a size limit, then the routers.
 */
export function createApp({ log, bodyLimitBytes, routers, protect }: AppOptions): Koa {
  const app = new Koa();
  app.silent = true; // errorHandler logs what matters; Koa's default handler would print stacks to stderr
  app.use(errorHandler(log));
  if (protect) {
    const { prefix, auth } = protect;
    app.use((ctx, next) => (ctx.path === prefix || ctx.path.startsWith(`${prefix}/`) ? auth(ctx, next) : next()));
  }
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: String(bodyLimitBytes),
      strict: true,
    }),
  );
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}

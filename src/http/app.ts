import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import type Router from '@koa/router';
import type { Logger } from '../log/logger.js';
import { errorHandler } from './errors.js';

export interface AppOptions {
  log: Logger;
  bodyLimitBytes: number;
  routers: Router[];
}

/** The Koa application: one error handler, a JSON body parser with a size limit, then the routers. */
export function createApp({ log, bodyLimitBytes, routers }: AppOptions): Koa {
  const app = new Koa();
  app.silent = true; // errorHandler logs what matters; Koa's default handler would print stacks to stderr
  app.use(errorHandler(log));
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

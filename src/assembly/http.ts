import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Router from '@koa/router';
import { toBlockList } from '../config/load.js';
import { StartupError, systemErrorText } from '../config/startupError.js';
import { packageVersion } from '../config/version.js';
import { createApp } from '../http/app.js';
import { bearerAuth } from '../http/auth.js';
import { healthRoutes } from '../http/healthRoutes.js';
import { openApiRoute } from '../http/openApiRoute.js';
import type { Ingest } from '../ingest/ingest.js';
import { createLeshanHandler } from '../ingest/leshanHandler.js';
import type { AssemblyContext, Checks } from './context.js';
import { openApiDocument } from './openapi.js';
import { errorFields } from '../log/errorText.js';

/** How long in-flight HTTP requests get to finish at shutdown before their connections are cut. */
const HTTP_DRAIN_MS = 3000;

/**
 * The HTTP server: Leshan's posts on a node:http fast path (the hottest route), everything else through
 * Koa, the operator API (`/api`) authenticated before its body is read. Listens before it resolves.
 */
export async function startHttp(ctx: AssemblyContext, parts: { ingest: Ingest; routers: Router[]; checks: Checks }): Promise<AddressInfo> {
  const { http, auth, leshan } = ctx.config;
  const log = ctx.log.child({ component: 'http' });
  const fastPath = createLeshanHandler({
    ingest: parts.ingest,
    allowFrom: toBlockList(http.leshanAllowFrom),
    bodyLimitBytes: http.bodyLimitBytes,
    registry: ctx.metrics,
    log: ctx.log.child({ component: 'ingest' }),
    enabled: leshan.ingress !== 'events',
  });
  const app = createApp({
    log,
    bodyLimitBytes: http.bodyLimitBytes,
    routers: [healthRoutes(parts.checks, ctx.metrics), openApiRoute(openApiDocument(packageVersion())), ...parts.routers],
    protect: { prefix: '/api', auth: bearerAuth(auth.token) },
    metrics: ctx.metrics,
  });
  const koa = app.callback();
  const server = createServer((req, res) => {
    if (!fastPath(req, res)) void koa(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: unknown): void => reject(listenError(err, http.host, http.port));
    server.once('error', failed);
    server.listen(http.port, http.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (err) => log.error(errorFields(err), 'HTTP server error'));
  ctx.started({ name: 'http', stop: () => stopHttp(server) });
  const address = server.address() as AddressInfo;
  log.info({ host: address.address, port: address.port }, 'listening');
  return address;
}

/** Why the server could not listen, naming the key to change. */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') return new StartupError('http.port', `${where} is already in use by another process`, { cause: err });
  if (code === 'EACCES')
    return new StartupError('http.port', `${where} needs privileges this user lacks (ports below 1024)`, { cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new StartupError('http.host', `${host} is not an address of this machine (${systemErrorText(err)})`, { cause: err });
  return err;
}

async function stopHttp(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_MS);
  await closed;
  clearTimeout(timer);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import { badRequest, errorBody, HttpError, toHttpError } from '../http/errors.js';
import type { LogSink } from '../log/logger.js';
import type { Ingest } from './ingest.js';
import { FieldError } from '../lwm2m/fieldError.js';
import { parseCompositePost, parseSinglePost, parseTimestampedPost, type ParsedPost } from './parsePost.js';
import { repairedStringValues } from './points.js';
import { errorFields } from '../log/errorText.js';
import { LogThrottle } from '../log/throttle.js';
import { followTotal, totalCounter } from '../metrics/following.js';

type Route = 'single' | 'composite' | 'timestamped';

const ROUTES: Record<string, { route: Route; parse: (body: unknown) => ParsedPost }> = {
  '/leshan_api/resource/single': { route: 'single', parse: parseSinglePost },
  '/leshan_api/resource/composite': { route: 'composite', parse: parseCompositePost },
  '/leshan_api/resource/timestamped': { route: 'timestamped', parse: parseTimestampedPost },
};

/** The paths Leshan posts to (the fast path's routes). */
export const LESHAN_POST_PATHS: readonly string[] = Object.keys(ROUTES);

/** At most one log line per route, status and code of refused posts in this time. */
const REFUSED_LOG_MS = 10_000;

/** Remembered allow-list decisions (a gateway sees a handful of addresses; the map is bounded anyway). */
const MAX_REMEMBERED_ADDRESSES = 1024;

export interface LeshanHandlerOptions {
  ingest: Ingest;
  allowFrom: BlockList;
  bodyLimitBytes: number;
  registry: Registry;
  log: LogSink;
  /** false with `leshan.ingress: events`: posts are refused (409), so a misconfiguration shows. */
  enabled?: boolean;
}

/**
 * `POST /leshan_api/resource/single`, `/composite` and `/timestamped`: the routes Leshan posts to (the
 * seed backend's, kept by this project's own Leshan server: docs/leshan-posts.md). This is the daemon's
 * hottest path, so it is served straight from node:http before Koa (measured: Koa's context, body parser
 * and router cost more than parsing and queueing the values); it answers exactly as the Koa error handler
 * would. Only addresses in `http.leshanAllowFrom` may post (the fork cannot send a token). 201
 * `{"accepted":N}` once the values are queued for InfluxDB; 4xx naming the field otherwise. Returns false
 * for any other path, which then goes to Koa.
 */
export function createLeshanHandler(options: LeshanHandlerOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { ingest, allowFrom, bodyLimitBytes, registry, log, enabled = true } = options;
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
  totalCounter(
    registry,
    'lwm2m_backend_ingest_string_values_repaired_total',
    'STRING/CORELINK values holding a lone UTF-16 surrogate, which UTF-8 cannot carry: written with U+FFFD in its place',
    repairedStringValues,
  );
  const nullNodes = new Counter({
    name: 'lwm2m_backend_ingest_null_nodes_total',
    help: 'Paths of composite posts whose node was null (a value the device left out): skipped, the rest of the post kept',
    registers: [registry],
  });
  const unused: Counter<'reason'> = new Counter({
    name: 'lwm2m_backend_ingest_device_times_unused_total',
    help:
      'Timestamped values whose device time was too far ahead (ingest.maxFutureSkewMs) or before 2000: ' +
      'written at arrival time, the device time kept in device_time',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const follow of unusedFollowers) follow();
    },
  });
  const unusedFollowers = (['future', 'before_2000'] as const).map((reason) =>
    followTotal(unused, { reason }, () => ingest.deviceTimesUnused[reason]),
  );
  // children bound once: the hot path does no label hashing
  const accepted = {
    single: posts.labels('single', '201'),
    composite: posts.labels('composite', '201'),
    timestamped: posts.labels('timestamped', '201'),
  };
  const valuesOf = { single: values.labels('single'), composite: values.labels('composite'), timestamped: values.labels('timestamped') };
  const allowed = new Map<string, boolean>();

  const isAllowed = (raw: string): boolean => {
    let ok = allowed.get(raw);
    if (ok === undefined) {
      const mapped = raw.startsWith('::ffff:') && raw.includes('.');
      const address = mapped ? raw.slice(7) : raw;
      ok = allowFrom.check(address, mapped || !address.includes(':') ? 'ipv4' : 'ipv6');
      if (allowed.size >= MAX_REMEMBERED_ADDRESSES) allowed.clear();
      allowed.set(raw, ok);
    }
    return ok;
  };

  const send = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const fail = (res: ServerResponse, route: string, err: unknown, from: string | undefined): void => {
    const httpError = toHttpError(err);
    if (httpError.status >= 500) log.error({ ...errorFields(err, { stack: true }), route }, 'Leshan post failed');
    else logRefused(route, httpError, from);
    posts.inc({ route, status: httpError.status });
    send(res, httpError.status, JSON.stringify(errorBody(httpError)));
  };

  // what a device or Leshan can repeat at will: one line per route, status and code every REFUSED_LOG_MS
  const refusedLog = new LogThrottle(REFUSED_LOG_MS);
  const logRefused = (route: string, httpError: HttpError, from: string | undefined): void => {
    const logged = refusedLog.take(`${route} ${httpError.status} ${httpError.code}`);
    if (!logged) return;
    log.info(
      {
        route,
        status: httpError.status,
        code: httpError.code,
        reason: httpError.message.slice(0, 300),
        from,
        ...(logged.suppressed > 0 && { alsoRefusedSinceLastLog: logged.suppressed }),
      },
      'refused a Leshan post',
    );
  };

  const handleBody = (res: ServerResponse, target: (typeof ROUTES)[string], text: string): void => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw badRequest('malformed_json', `request body is not valid JSON: ${(err as Error).message}`);
    }
    let post: ParsedPost;
    try {
      post = target.parse(raw);
    } catch (err) {
      if (err instanceof FieldError) throw badRequest('invalid_post', `${err.field}: ${err.message}`, { field: err.field });
      throw err;
    }
    const n = ingest.accept(post);
    valuesOf[target.route].inc(n);
    accepted[target.route].inc();
    if (post.nullNodes) nullNodes.inc(post.nullNodes);
    send(res, 201, post.nullNodes ? `{"accepted":${n},"nullNodes":${post.nullNodes}}` : `{"accepted":${n}}`);
  };

  return (req, res) => {
    const url = req.url ?? '';
    // a query string (a proxy's cache buster, `?format=`) does not change the route
    const query = url.indexOf('?');
    const target = ROUTES[query < 0 ? url : url.slice(0, query)];
    if (!target) return false;
    const { route } = target;
    try {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.url}; use POST`);
      }
      if (!enabled) {
        throw new HttpError(
          409,
          'ingress_disabled',
          "leshan.ingress is 'events': values come from Leshan's event stream, posts are not taken",
        );
      }
      if (!isAllowed(req.socket.remoteAddress ?? '')) {
        throw new HttpError(403, 'forbidden', `${req.socket.remoteAddress} may not post to /leshan_api (see http.leshanAllowFrom)`);
      }
      const type = req.headers['content-type'];
      if (!type || !/^application\/json\s*(;|$)/i.test(type)) {
        throw new HttpError(415, 'unsupported_media_type', 'Leshan posts must be application/json');
      }
      if (Number(req.headers['content-length']) > bodyLimitBytes) throw tooLarge(bodyLimitBytes);
    } catch (err) {
      req.resume();
      fail(res, route, err, req.socket.remoteAddress);
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > bodyLimitBytes) {
        done = true;
        res.setHeader('connection', 'close');
        fail(res, route, tooLarge(bodyLimitBytes), req.socket.remoteAddress);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      try {
        handleBody(res, target, chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString());
      } catch (err) {
        fail(res, route, err, req.socket.remoteAddress);
      }
    });
    req.on('error', () => {
      done = true; // the client went away; nothing was accepted
    });
    return true;
  };
}

const tooLarge = (limit: number): HttpError => new HttpError(413, 'body_too_large', `request body is larger than ${limit} bytes`);

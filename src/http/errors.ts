import type { Middleware } from 'koa';
import type { LogSink } from '../log/logger.js';
import { errorFields } from '../log/errorText.js';

/** An error meant for the client: a status, a stable machine-readable code and a message naming the problem. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown): HttpError => new HttpError(400, code, message, details);
export const notFound = (message: string): HttpError => new HttpError(404, 'not_found', message);
export const conflict = (message: string): HttpError => new HttpError(409, 'conflict', message);

/** Errors thrown by koa-bodyparser/raw-body (`type`) and by the router (`status` with `expose`). */
interface FrameworkError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  limit?: number;
  message?: string;
  /** co-body attaches the raw text to its JSON parse errors. */
  body?: unknown;
}

const FRAMEWORK_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  411: 'length_required',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  501: 'not_implemented',
};

/** Maps anything thrown to the HttpError the client sees; unknown errors become a bare 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = (err ?? {}) as FrameworkError;
  switch (e.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed_json', `request body is not valid JSON: ${e.message ?? ''}`.trim());
    case 'entity.too.large':
      return new HttpError(413, 'body_too_large', `request body is larger than ${e.limit ?? 'the limit of'} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', e.message ?? 'unsupported body encoding');
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'the request was aborted while its body was read');
    case 'request.size.invalid':
      return new HttpError(400, 'bad_request', 'request size did not match content length');
    default:
  }
  const status = e.status ?? e.statusCode;
  if (status === 400 && e.body !== undefined) {
    return new HttpError(400, 'malformed_json', `request body is not valid JSON: ${e.message ?? ''}`.trim());
  }
  if (status !== undefined && status >= 400 && status < 500 && e.expose !== false) {
    return new HttpError(status, FRAMEWORK_CODES[status] ?? 'bad_request', e.message ?? 'bad request');
  }
  if (status === 501) return new HttpError(501, 'not_implemented', 'method not implemented');
  return new HttpError(500, 'internal', 'internal error');
}

/**
 * The one error handler: every failure becomes `{"error":{"code","message"}}`; internals are never
 * sent, 5xx causes are logged. An unmatched route is a JSON 404 as well.
 */
export function errorHandler(log: LogSink): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw notFound(`no route for ${ctx.method} ${ctx.path}`);
      }
      // the router's bare 405 / 501 (its `Allow` header stays)
      if ((ctx.status === 405 || ctx.status === 501) && !ctx.body) {
        const allow = ctx.response.get('Allow');
        throw ctx.status === 405
          ? new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}${allow ? `; allowed: ${allow}` : ''}`)
          : new HttpError(501, 'not_implemented', `method ${ctx.method} is not implemented`);
      }
    } catch (err) {
      const httpError = toHttpError(err);
      if (httpError.status >= 500) {
        log.error({ ...errorFields(err, { stack: true }), method: ctx.method, path: ctx.path }, 'request failed');
      }
      ctx.status = httpError.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = errorBody(httpError);
    }
  };
}

/** The JSON body every error answer carries: `{"error":{"code","message"[,"details"]}}`. */
export function errorBody(httpError: HttpError): { error: Record<string, unknown> } {
  const error: Record<string, unknown> = { code: httpError.code, message: httpError.message };
  if (httpError.details !== undefined) error.details = httpError.details;
  return { error };
}

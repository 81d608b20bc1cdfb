import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { HttpError } from './errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * `Authorization: Bearer <token>` when a token is configured (an empty token lets everyone through:
 * the config refuses that beyond loopback unless anonymous operators are asked for). The comparison is
 * of SHA-256 digests with timingSafeEqual: constant time, whatever the lengths.
 */
export function bearerAuth(token: string): Middleware {
  if (token === '') return (_ctx, next) => next();
  const expected = digest(token);
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="lwm2m-backend"');
      throw new HttpError(401, 'unauthorized', match ? 'wrong bearer token' : 'missing bearer token (Authorization: Bearer <auth.token>)');
    }
    await next();
  };
}

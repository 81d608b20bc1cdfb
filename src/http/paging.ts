/**
 * Paging of every list the API serves: `?limit=&cursor=`, answered as `{"items":[...],"next":"<cursor>"}`
 * (no `next` on the last page). One rule for `limit` everywhere: digits only, 1-MAX_PAGE.
 */
import { badRequest } from './errors.js';

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** A query parameter given once (a string), or undefined; 400 when it is given more than once. */
export function singleParam(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest('invalid_query', `${key} given more than once`, { field: key });
  return v;
}

/** `limit` (default DEFAULT_PAGE) and the raw `cursor`, checked; what a cursor may look like is the list's own rule. */
export function pageParams(query: Record<string, unknown>): { limit: number; cursor?: string } {
  const raw = singleParam(query, 'limit');
  let limit = DEFAULT_PAGE;
  if (raw !== undefined) {
    limit = Number(raw);
    if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_PAGE)
      throw badRequest('invalid_query', `limit must be an integer 1-${MAX_PAGE}`, { field: 'limit' });
  }
  const cursor = singleParam(query, 'cursor');
  return cursor === undefined ? { limit } : { limit, cursor };
}

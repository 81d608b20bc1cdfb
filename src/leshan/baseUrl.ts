/**
 * Leshan's base URL as the client and the event stream use it: an http(s) origin and a path prefix
 * (kept, for a Leshan behind a proxy under `/leshan`), without a trailing slash.
 * @throws Error on a malformed or non-http(s) URL (a configuration error).
 */
export function leshanBase(url: string): { origin: string; basePath: string } {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`leshan url must be http(s): ${url}`);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}

import type { InfluxEndpoint } from './endpoint.js';

/** What one write request came to. Only `ok` means InfluxDB has the points. */
export type SendOutcome =
  | { kind: 'ok' }
  | { kind: 'invalid' | 'tooLarge'; message: string; retryAfterMs?: number }
  | { kind: 'connection' | 'server' | 'rate_limited' | 'rejected' | 'aborted'; message: string; retryAfterMs?: number };

/** `Retry-After` in seconds or as an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** POSTs lines to the write endpoint of either API generation and classifies the answer. */
export async function sendBatch(endpoint: InfluxEndpoint, lines: readonly string[], signal: AbortSignal): Promise<SendOutcome> {
  let res;
  try {
    res = await endpoint.pool.request({
      method: 'POST',
      path: endpoint.writePath,
      headers: { ...endpoint.headers, 'content-type': 'text/plain; charset=utf-8' },
      body: lines.join('\n'),
      signal,
    });
  } catch (err) {
    const message = err instanceof Error ? `${err.message}${(err as NodeJS.ErrnoException).code ? ` (${(err as NodeJS.ErrnoException).code})` : ''}` : String(err);
    return { kind: signal.aborted ? 'aborted' : 'connection', message };
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) {
    await res.body.dump();
    return { kind: 'ok' };
  }
  const text = (await res.body.text().catch(() => '')).slice(0, 1000);
  const message = `InfluxDB answered ${status}: ${text}`;
  if (status === 413) return { kind: 'tooLarge', message };
  if (status === 400 || status === 422) return { kind: 'invalid', message };
  if (status === 429) return { kind: 'rate_limited', message, ...retryAfter(res.headers['retry-after']) };
  if (status >= 500) return { kind: 'server', message, ...retryAfter(res.headers['retry-after']) };
  // 401/403: bad token; 404: database or bucket gone. Not the points' fault: keep them and retry.
  return { kind: 'rejected', message };
}

function retryAfter(header: string | string[] | undefined): { retryAfterMs?: number } {
  const ms = parseRetryAfter(header);
  return ms === undefined ? {} : { retryAfterMs: ms };
}

import type { InfluxEndpoint } from './endpoint.js';
import { errorText } from '../log/errorText.js';

/**
 * What one write request came to. Only `ok` means InfluxDB has the points. `connection` is any failure
 * without a readable answer: InfluxDB unreachable, the connection lost, or an answer undici cannot parse
 * (InfluxDB 1.x echoes a refused line in its `X-Influxdb-Error` header, control bytes included); the
 * writer tells them apart with /ping. `timeout`: no answer within `influx.timeoutMs`.
 */
export type SendOutcome = { kind: 'ok' } | SendFailure;
export interface SendFailure {
  kind: 'invalid' | 'tooLarge' | 'connection' | 'timeout' | 'server' | 'rate_limited' | 'rejected' | 'aborted';
  message: string;
  retryAfterMs?: number;
}

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

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
    const code = (err as NodeJS.ErrnoException).code;
    const message = errorText(err);
    return { kind: signal.aborted ? 'aborted' : code !== undefined && TIMEOUTS.has(code) ? 'timeout' : 'connection', message };
  }
  const status = res.statusCode;
  if (status >= 200 && status < 300) {
    await res.body.dump().catch(() => undefined); // the status is InfluxDB's acknowledgement
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

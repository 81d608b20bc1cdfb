import Router from '@koa/router';
import type { Registry } from 'prom-client';
import { errorText } from '../log/errorText.js';

/** What one part of the daemon says about itself in /health. */
export interface CheckResult {
  ok: boolean;
  [detail: string]: unknown;
}

export type HealthChecks = Record<string, () => CheckResult>;

/** A URL fit for an open endpoint such as /health: a user name or password in it is replaced by `***`. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * `GET /health`: 200 `{"status":"ok","checks":{...}}` when every check passes, else 503 with
 * `"status":"fail"` and `failing` naming the checks that did not. `GET /metrics`: Prometheus text.
 */
export function healthRoutes(checks: HealthChecks, metrics: Registry): Router {
  const router = new Router();
  router.get('/health', (ctx) => {
    const results: Record<string, CheckResult & { status: 'ok' | 'fail' }> = {};
    const failing: string[] = [];
    for (const [name, check] of Object.entries(checks)) {
      let result: CheckResult;
      try {
        result = check();
      } catch (err) {
        result = { ok: false, error: errorText(err) };
      }
      const { ok, ...details } = result;
      results[name] = { status: ok ? 'ok' : 'fail', ok, ...details };
      if (!ok) failing.push(name);
    }
    ctx.status = failing.length === 0 ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = failing.length === 0 ? { status: 'ok', checks: results } : { status: 'fail', failing, checks: results };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.metrics();
  });
  return router;
}

import Router from '@koa/router';
import type { Registry } from 'prom-client';
import { errorText } from '../log/errorText.js';

/** What one part of the daemon says about itself in /health. */
export interface CheckResult {
  ok: boolean;
  /**
   * Not ok, but the daemon still does its job (InfluxDB down while points are spooled, Leshan's event
   * stream reconnecting): /health fails, /health/ready does not.
   */
  degraded?: boolean;
  [detail: string]: unknown;
}

export type HealthChecks = Record<string, () => CheckResult>;

type CheckStatus = 'ok' | 'degraded' | 'fail';

function runChecks(checks: HealthChecks): { results: Record<string, Record<string, unknown>>; failing: string[]; degraded: string[] } {
  const results: Record<string, Record<string, unknown>> = {};
  const failing: string[] = [];
  const degraded: string[] = [];
  for (const [name, check] of Object.entries(checks)) {
    let result: CheckResult;
    try {
      result = check();
    } catch (err) {
      result = { ok: false, error: errorText(err) };
    }
    const { ok, degraded: copes, ...details } = result;
    const status: CheckStatus = ok ? 'ok' : copes ? 'degraded' : 'fail';
    results[name] = { status, ok, ...details };
    if (status === 'fail') failing.push(name);
    if (status === 'degraded') degraded.push(name);
  }
  return { results, failing, degraded };
}

/**
 * - `GET /health`: every check, strict: 200 `{"status":"ok","checks":{...}}` when every check passes, else 503
 *   `{"status":"fail","failing":[...],...}` naming each check that is not ok, degraded ones included.
 * - `GET /health/ready` (readiness): 503 only when a check fails outright (the operation store cannot write);
 *   200 with `"status":"degraded"` while the daemon copes (InfluxDB down and points spooled).
 * - `GET /health/live` (liveness): 200 whenever the process answers; restarting it would not help otherwise.
 * - `GET /metrics`: Prometheus text.
 */
export function healthRoutes(checks: HealthChecks, metrics: Registry): Router {
  const router = new Router();
  const started = performance.now();
  router.get('/health', (ctx) => {
    const { results, failing, degraded } = runChecks(checks);
    const notOk = Object.keys(results).filter((name) => failing.includes(name) || degraded.includes(name));
    ctx.status = notOk.length === 0 ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = notOk.length === 0 ? { status: 'ok', checks: results } : { status: 'fail', failing: notOk, checks: results };
  });
  router.get('/health/ready', (ctx) => {
    const { results, failing, degraded } = runChecks(checks);
    const status: CheckStatus = failing.length > 0 ? 'fail' : degraded.length > 0 ? 'degraded' : 'ok';
    ctx.status = status === 'fail' ? 503 : 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status, ...(failing.length > 0 && { failing }), ...(degraded.length > 0 && { degraded }), checks: results };
  });
  router.get('/health/live', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'alive', uptimeS: Math.round((performance.now() - started) / 1000) };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.metrics();
  });
  return router;
}

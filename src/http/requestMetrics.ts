import type { Middleware } from 'koa';
import { Counter, Histogram, type Registry } from 'prom-client';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * `lwm2m_backend_http_requests_total{method,route,status}` and `lwm2m_backend_http_request_seconds{method,route}`
 * for the API served through Koa (the operator API, health, metrics). `route` is the matched route's pattern
 * (`/api/operations/:id`), `unmatched` otherwise, so made-up paths cannot grow the label set; Leshan's posts have
 * their own counters (`lwm2m_backend_ingest_posts_total`).
 */
export function requestMetrics(registry: Registry): Middleware {
  const requests = new Counter({
    name: 'lwm2m_backend_http_requests_total',
    help: 'HTTP requests to the API by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'lwm2m_backend_http_request_seconds',
    help: 'Time to answer an HTTP request to the API, by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const route = typeof matched === 'string' ? matched : 'unmatched';
      const method = METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      requests.inc({ method, route, status: String(ctx.status) });
      seconds.observe({ method, route }, (performance.now() - started) / 1000);
    }
  };
}

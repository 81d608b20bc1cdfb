import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * One Prometheus registry per daemon (not the global one), so tests can run several daemons in a process.
 * The process and Node.js metrics keep their standard names (`process_*`, `nodejs_*`) that stock Node dashboards
 * expect; the daemon's own metrics are `lwm2m_backend_*`, with `lwm2m_backend_build_info{version}` among them.
 */
export function createMetricsRegistry(version = 'unknown'): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'lwm2m_backend_build_info',
    help: 'Always 1; the labels say which daemon runs on which Node.js',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version, nodejs: process.versions.node }, 1);
  return registry;
}

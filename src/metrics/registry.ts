import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * How often the event loop is sampled for `nodejs_eventloop_lag_*_seconds` (prom-client's default, set here so
 * that readers know it): Node's histogram reports each sample's whole interval, so an idle loop reads this
 * much; the delay is the figure minus it.
 */
export const EVENT_LOOP_SAMPLE_MS = 10;

/**
 * One Prometheus registry per daemon (not the global one), so tests can run several daemons in a process.
 * The process and Node.js metrics keep their standard names (`process_*`, `nodejs_*`) that stock Node dashboards
 * expect; the daemon's own metrics are `lwm2m_backend_*`, with `lwm2m_backend_build_info{version}` among them.
 */
export function createMetricsRegistry(version = 'unknown'): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  new Gauge({
    name: 'lwm2m_backend_build_info',
    help: 'Always 1; the labels say which daemon runs on which Node.js',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  }).set({ version, nodejs: process.versions.node }, 1);
  return registry;
}

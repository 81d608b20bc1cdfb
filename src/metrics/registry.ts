import { collectDefaultMetrics, Registry } from 'prom-client';

/** One Prometheus registry per daemon (not the global one), so tests can run several daemons in a process. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lwm2m_backend_' });
  return registry;
}

import { Gauge, type Registry } from 'prom-client';
import type { EndpointRegistry } from '../endpoints/registry.js';
import type { OperationStore } from './store.js';

/** `lwm2m_backend_operations{status}` and `lwm2m_backend_endpoints{state}`, read when scraped. */
export function registerStateGauges(metrics: Registry, store: OperationStore, endpoints: EndpointRegistry): void {
  new Gauge({
    name: 'lwm2m_backend_operations',
    help: 'Operations in the store by status',
    labelNames: ['status'],
    registers: [metrics],
    collect() {
      for (const [status, n] of Object.entries(store.countsByStatus())) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'lwm2m_backend_endpoints',
    help: 'Known endpoints by state',
    labelNames: ['state'],
    registers: [metrics],
    collect() {
      for (const [state, n] of Object.entries(endpoints.countsByState())) this.set({ state }, n);
    },
  });
}

import { Gauge, type Registry } from 'prom-client';
import type { LeshanEventStream } from '../leshan/eventStream.js';
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

/** The event stream's health: connected, reconnects, time without a stream. */
export function registerStreamMetrics(metrics: Registry, stream: LeshanEventStream): void {
  new Gauge({
    name: 'lwm2m_backend_leshan_stream_connected',
    help: "1 while Leshan's event stream is open",
    registers: [metrics],
    collect() {
      this.set(stream.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lwm2m_backend_leshan_stream_reconnects',
    help: "Reconnections of Leshan's event stream since start",
    registers: [metrics],
    collect() {
      this.set(stream.reconnects);
    },
  });
  new Gauge({
    name: 'lwm2m_backend_leshan_stream_down_seconds',
    help: "Time without Leshan's event stream since start",
    registers: [metrics],
    collect() {
      this.set(stream.disconnectedMs() / 1000);
    },
  });
}

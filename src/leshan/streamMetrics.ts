import { Gauge, type Registry } from 'prom-client';
import type { LeshanEventStream } from './eventStream.js';

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

import { Gauge, type Registry } from 'prom-client';
import { totalCounter } from '../metrics/following.js';
import type { LeshanEventStream } from './eventStream.js';

/** The event stream's health: connected, reconnects, time without a stream (both ever-rising: counters). */
export function registerStreamMetrics(metrics: Registry, stream: LeshanEventStream): void {
  new Gauge({
    name: 'lwm2m_backend_leshan_stream_connected',
    help: "1 while Leshan's event stream is open",
    registers: [metrics],
    collect() {
      this.set(stream.connected ? 1 : 0);
    },
  });
  totalCounter(metrics, 'lwm2m_backend_leshan_stream_reconnects_total', "Reconnections of Leshan's event stream", () => stream.reconnects);
  totalCounter(
    metrics,
    'lwm2m_backend_leshan_stream_down_seconds_total',
    "Time without Leshan's event stream",
    () => stream.disconnectedMs() / 1000,
  );
}

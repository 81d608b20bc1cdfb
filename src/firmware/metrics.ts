import { Counter, Gauge, type Registry } from 'prom-client';
import type { FirmwareRepository } from './repository.js';
import { FIRMWARE_STATUSES, type FirmwareUpdate } from './update.js';

/**
 * `lwm2m_backend_firmware_updates{status}` (stored updates by status, read when scraped) and
 * `lwm2m_backend_firmware_steps_total{step,status}` (stored changes: steps reached, ends).
 * Returns what to call on each stored change.
 */
export function registerFirmwareMetrics(metrics: Registry, repository: FirmwareRepository): (update: FirmwareUpdate) => void {
  new Gauge({
    name: 'lwm2m_backend_firmware_updates',
    help: 'Firmware updates by status',
    labelNames: ['status'],
    registers: [metrics],
    collect() {
      const counts = Object.fromEntries(FIRMWARE_STATUSES.map((s) => [s, 0]));
      for (const u of repository.all()) counts[u.status]!++;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  const steps = new Counter({
    name: 'lwm2m_backend_firmware_steps_total',
    help: 'Stored changes of firmware updates, by step and status',
    labelNames: ['step', 'status'],
    registers: [metrics],
  });
  return (update) => steps.inc({ step: update.step, status: update.status });
}

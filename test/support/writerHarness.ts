import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import type { InfluxConfig } from '../../src/config/schema.js';
import { InfluxConnection } from '../../src/influx/connection.js';
import { createInfluxEndpoint } from '../../src/influx/endpoint.js';
import { Spool } from '../../src/influx/spool.js';
import { InfluxWriter, type WriterTuning } from '../../src/influx/writer.js';
import { testConfig, testLogger } from './config.js';

/** An InfluxWriter wired to a real connection and spool in a temp dir, for tests and benchmarks. */
export interface WriterHarness {
  writer: InfluxWriter;
  connection: InfluxConnection;
  spool: Spool;
  registry: Registry;
  spoolDir: string;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Stops the writer (spooling what is left) and the rest; keeps the spool dir unless `removeSpool`. */
  close(removeSpool?: boolean): Promise<void>;
}

export async function startWriter(
  influx: Partial<InfluxConfig>,
  api: 'v1' | 'v2',
  options: Partial<WriterTuning> = {},
  spoolDir?: string,
  spoolMaxBytes = 100 * 1024 * 1024,
): Promise<WriterHarness> {
  const config = testConfig({ influx: { connectIntervalMs: 100, ...influx } }).influx;
  const dir = spoolDir ?? (await mkdtemp(path.join(tmpdir(), 'lwm2m-writer-')));
  const endpoint = createInfluxEndpoint(config, api);
  const log = testLogger();
  const connection = new InfluxConnection(endpoint, log);
  const registry = new Registry();
  const spool = new Spool({ dir, maxBytes: spoolMaxBytes, segmentBytes: Math.min(2 * 1024 * 1024, spoolMaxBytes / 4), log });
  await spool.open();
  await connection.probe();
  const writer = new InfluxWriter({ endpoint, connection, spool, log, registry, retryMinMs: 50, retryMaxMs: 200, ...options });
  writer.start();
  return {
    writer,
    connection,
    spool,
    registry,
    spoolDir: dir,
    async metric(name, labels) {
      const m = registry.getSingleMetric(name);
      const values = (await m?.get())?.values ?? [];
      const match = values.filter((v) => Object.entries(labels ?? {}).every(([k, val]) => v.labels[k] === val));
      return match.reduce((sum, v) => sum + v.value, 0);
    },
    async close(removeSpool = false) {
      await writer.stop();
      await connection.stop();
      await endpoint.close();
      if (removeSpool) await rm(dir, { recursive: true, force: true });
    },
  };
}

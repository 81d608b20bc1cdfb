import { Pool } from 'undici';
import type { InfluxConfig } from '../config/schema.js';

/** How the daemon reaches one InfluxDB: the API generation, its auth header and one bounded connection pool. */
export interface InfluxEndpoint {
  readonly api: 'v1' | 'v2';
  readonly config: InfluxConfig;
  readonly pool: Pool;
  readonly headers: Record<string, string>;
  /** Path and query of the write endpoint for this API generation. */
  readonly writePath: string;
  close(): Promise<void>;
}

export function createInfluxEndpoint(config: InfluxConfig, api: 'v1' | 'v2', connections = 4): InfluxEndpoint {
  const pool = new Pool(config.url, {
    connections,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    connectTimeout: Math.min(config.timeoutMs, 5000),
  });
  const headers: Record<string, string> = {};
  if (config.token !== '') headers.authorization = `Token ${config.token}`;
  const writePath =
    api === 'v1'
      ? `/write?db=${encodeURIComponent(config.database)}&precision=ns`
      : `/api/v2/write?org=${encodeURIComponent(config.org)}&bucket=${encodeURIComponent(config.bucket)}&precision=ns`;
  return { api, config, pool, headers, writePath, close: () => pool.close() };
}

/** The configuration as the daemon shows it: `--print-config` and the start-up line. Secrets never appear. Pure. */
import path from 'node:path';
import { maskSecret, withoutCredentials } from '../log/redact.js';
import { resolveInfluxApi } from './load.js';
import type { Config } from './schema.js';

/** The whole configuration with its secrets masked (`***`) and credentials taken out of URLs. */
export function printableConfig(config: Config): Config {
  return {
    ...config,
    auth: { ...config.auth, token: maskSecret(config.auth.token) },
    leshan: { ...config.leshan, url: withoutCredentials(config.leshan.url) },
    influx: { ...config.influx, url: withoutCredentials(config.influx.url), token: maskSecret(config.influx.token) },
  };
}

/** What an operator needs to know of the set-up at a glance, logged once at start. */
export function startupSummary(config: Config): Record<string, unknown> {
  const api = resolveInfluxApi(config);
  const { influx, leshan, auth, http } = config;
  return {
    http: `${http.host}:${http.port}`,
    ingress: leshan.ingress,
    leshanUrl: withoutCredentials(leshan.url),
    influxUrl: withoutCredentials(influx.url),
    influxApi: api,
    influxTarget: api === 'v1' ? `database ${influx.database}` : `org ${influx.org || '(token default)'}, bucket ${influx.bucket}`,
    auth: auth.token !== '' ? 'token' : auth.allowAnonymous ? 'anonymous' : 'none (loopback only)',
    dataDir: path.resolve(config.dataDir),
  };
}

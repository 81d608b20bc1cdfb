import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { deepMerge, type Json } from '../../src/config/overrides.js';
import { createLogger, type Logger } from '../../src/log/logger.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** The default configuration with test overrides (validated like the real thing). */
export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  const base = loadConfig({ argv: [], env: {} });
  return deepMerge(base as unknown as Json, overrides as unknown as Json) as unknown as Config;
}

/** A logger that prints nothing (LOG_LEVEL=debug to see more while debugging a test). */
export function testLogger(): Logger {
  return createLogger((process.env.LOG_LEVEL as 'debug' | undefined) ?? 'silent');
}

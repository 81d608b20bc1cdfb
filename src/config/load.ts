import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { applyEnv, deepMerge, envName, type Json } from './overrides.js';
import { parseCommandLine } from './args.js';

export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/** Every problem found in the configuration, reported together. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  defaultsFile?: string;
}

function readJson(file: string, what: string, problems: string[]): Json | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${what} ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Json;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(`${what} ${file}: must hold a JSON object`);
      return undefined;
    }
    return parsed;
  } catch (err) {
    problems.push(`${what} ${file}: invalid JSON (${(err as Error).message})`);
    return undefined;
  }
}

function describeIssue(issue: z.core.$ZodIssue, fromEnv: Map<string, string>): string[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${[...path, key].join('.')}: unknown key`);
  }
  const key = path.join('.') || '(root)';
  const variable = fromEnv.get(key);
  return [`${key}: ${issue.message}${variable ? ` (from ${variable})` : ''}`];
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1']);
/** A host name as DNS has it (letters, digits, hyphens, dots). */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Checks that span several keys; the schema has already checked each key alone. */
function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  const { host } = config.http;
  if (/^\[.*\]$/.test(host) && isIP(host.slice(1, -1)) === 6)
    problems.push(`http.host: write the IPv6 address without brackets ("${host.slice(1, -1)}")`);
  else if (isIP(host) === 0 && !HOSTNAME.test(host)) problems.push(`http.host: "${host}" is neither an IP address nor a host name`);
  if (!isLoopbackHost(config.http.host) && config.auth.token === '' && !config.auth.allowAnonymous) {
    problems.push(
      `auth.token: the operator API would be open to anyone on ${config.http.host}; ` +
        'set auth.token, or set auth.allowAnonymous to true if anonymous operators are wanted',
    );
  }
  const api = resolveInfluxApi(config);
  if (api === 'v1' && config.influx.database === '') problems.push('influx.database: required for the 1.x API');
  if (api === 'v2' && config.influx.bucket === '') problems.push('influx.bucket: required for the 2.x API');
  config.http.leshanAllowFrom.forEach((entry, i) => {
    try {
      toBlockList([entry]);
    } catch {
      problems.push(`http.leshanAllowFrom.${i}: "${entry}" is not a valid IP address or CIDR block`);
    }
  });
  return problems;
}

/** The InfluxDB API generation in use: `auto` means 2.x when a bucket is configured. */
export function resolveInfluxApi(config: Pick<Config, 'influx'>): 'v1' | 'v2' {
  const { api, bucket } = config.influx;
  if (api !== 'auto') return api;
  return bucket !== '' ? 'v2' : 'v1';
}

/** A `net.BlockList` holding the given addresses and CIDR blocks; throws on an invalid entry. */
export function toBlockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`invalid address ${entry}`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/**
 * Builds the configuration: `config/default.json`, then the `--config` file merged over it, then
 * `LWM2M_*` environment variables. Throws a ConfigError listing every problem at once.
 */
export function loadConfig(options: LoadOptions): Config {
  const problems: string[] = [];
  const args = parseCommandLine(options.argv);
  problems.push(...args.problems);
  const defaults = readJson(options.defaultsFile ?? DEFAULT_CONFIG_FILE, 'defaults file', problems);
  let merged: Json = defaults ?? {};
  if (args.configFile !== undefined) {
    const file = readJson(args.configFile, 'config file', problems);
    if (file !== undefined) merged = deepMerge(merged, file);
  }
  const env = applyEnv(merged, defaults ?? {}, options.env);
  for (const variable of env.unknown) problems.push(`${variable}: names no configuration key`);
  const fromEnv = new Map(env.used.map((u) => [u.path.join('.'), envName(u.path)]));
  const parsed = configSchema.safeParse(env.config);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...describeIssue(issue, fromEnv));
  } else {
    problems.push(...crossCheck(parsed.data));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

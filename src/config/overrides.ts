/** Pure helpers that layer configuration sources: JSON files merged over defaults, then env variables. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export const ENV_PREFIX = 'LWM2M_';

function isObject(x: unknown): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Merges `over` into `base`: objects key by key, everything else (arrays too) replaced whole. */
export function deepMerge(base: Json, over: Json): Json {
  if (!isObject(base) || !isObject(over)) return over;
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = key in base ? deepMerge(base[key] as Json, value) : value;
  }
  return out;
}

/** Every leaf key path of `defaults`, e.g. `['http','port']`. */
function leafPaths(node: Json, prefix: string[] = []): string[][] {
  if (!isObject(node)) return [prefix];
  return Object.entries(node).flatMap(([key, value]) => leafPaths(value, [...prefix, key]));
}

/** `['endpoints','awakeMs']` -> `LWM2M_ENDPOINTS_AWAKEMS`. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.join('_').toUpperCase();
}

/**
 * Reads the value of an env variable as the type the default has, so that validation reports a wrong
 * type with the key's name instead of a string mismatch. Unparseable text is passed through as a string.
 */
function parseEnvValue(text: string, like: Json): Json {
  if (typeof like === 'number') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (typeof like === 'boolean') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    return text;
  }
  if (Array.isArray(like)) {
    const trimmed = text.trim();
    if (trimmed.startsWith('[')) {
      try {
        return JSON.parse(trimmed) as Json;
      } catch {
        return text;
      }
    }
    return trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
  }
  return text;
}

export interface EnvOverride {
  variable: string;
  path: string[];
}

/**
 * Applies `LWM2M_*` variables over `config`, one per leaf key of `defaults`. Returns the merged
 * config, the variables used and the `LWM2M_*` variables that name no key.
 */
export function applyEnv(
  config: Json,
  defaults: Json,
  env: Record<string, string | undefined>,
): { config: Json; used: EnvOverride[]; unknown: string[] } {
  const byName = new Map(leafPaths(defaults).map((p) => [envName(p), p]));
  let out = config;
  const used: EnvOverride[] = [];
  const unknown: string[] = [];
  for (const [variable, text] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || text === undefined) continue;
    const path = byName.get(variable);
    if (!path) {
      unknown.push(variable);
      continue;
    }
    let like: Json = defaults;
    for (const key of path) like = (like as JsonObject)[key] as Json;
    let patch: Json = parseEnvValue(text, like);
    for (let i = path.length - 1; i >= 0; i--) patch = { [path[i] as string]: patch };
    out = deepMerge(out, patch);
    used.push({ variable, path });
  }
  return { config: out, used, unknown };
}

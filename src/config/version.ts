import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The daemon's version, from package.json (beside src/ and dist/ alike). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

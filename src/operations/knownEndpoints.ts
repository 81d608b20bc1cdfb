/**
 * Whether an endpoint is one the operator can mean: queueing for a name nobody has seen (a typo such as
 * `qemu_x68`) is refused with 404 instead of creating an endpoint that never wakes. An endpoint is known
 * when the daemon has seen it (a registration event since start, or operations in the store), when it is
 * listed in `endpoints.expected` (a name, or a prefix ending in `*`), or when Leshan has it registered
 * (asked only on a miss: after a restart the daemon has seen nothing yet).
 */

/** True when `ep` is one of the names, or starts with a prefix given as `prefix*`. Pure. */
export function isExpected(ep: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? ep.startsWith(p.slice(0, -1)) : ep === p) return true;
  }
  return false;
}

export type EndpointKnowledge = 'known' | 'unknown' | 'unverified';

export interface KnownEndpointsOptions {
  /** The daemon has seen it: its registry has it, or the store holds operations for it. */
  seen(ep: string): boolean;
  expected: readonly string[];
  /** The endpoint names Leshan has registered; throws when Leshan cannot be asked. */
  listRegistered(): Promise<string[]>;
}

export class KnownEndpoints {
  private listing: Promise<Set<string>> | undefined;

  constructor(private readonly options: KnownEndpointsOptions) {}

  /** `unverified` when only Leshan could tell and it cannot be asked (the operation is then taken). */
  async check(ep: string): Promise<EndpointKnowledge> {
    if (this.options.seen(ep) || isExpected(ep, this.options.expected)) return 'known';
    try {
      return (await this.registeredNames()).has(ep) ? 'known' : 'unknown';
    } catch {
      return 'unverified';
    }
  }

  /** Leshan's list, asked afresh for each miss (a registration a second ago counts); concurrent misses share one request. */
  private registeredNames(): Promise<Set<string>> {
    this.listing ??= this.options
      .listRegistered()
      .then((names) => new Set(names))
      .finally(() => (this.listing = undefined));
    return this.listing;
  }
}

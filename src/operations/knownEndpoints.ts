/**
 * Whether an endpoint is one the operator can mean: queueing for a name nobody has seen (a typo such as
 * `qemu_x68`) is refused with 404 instead of creating an endpoint that never wakes. An endpoint is known
 * when the daemon has seen it (a registration event since start, or operations in the store), when it is
 * listed in `endpoints.expected` (a name, or a prefix ending in `*`), or when Leshan has it registered
 * (`GET /api/clients/{ep}`, asked only on a miss: after a restart the daemon has seen nothing yet).
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
  /** Whether Leshan has `ep` registered; throws when Leshan cannot be asked. */
  isRegistered(ep: string): Promise<boolean>;
}

export class KnownEndpoints {
  /** Questions to Leshan in flight, by endpoint: concurrent creates for one unseen name ask once. */
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(private readonly options: KnownEndpointsOptions) {}

  /** `unverified` when only Leshan could tell and it cannot be asked (the operation is then taken). */
  async check(ep: string): Promise<EndpointKnowledge> {
    if (this.options.seen(ep) || isExpected(ep, this.options.expected)) return 'known';
    let asked = this.asking.get(ep);
    if (!asked) {
      asked = this.options.isRegistered(ep).finally(() => this.asking.delete(ep));
      this.asking.set(ep, asked);
    }
    try {
      return (await asked) ? 'known' : 'unknown';
    } catch {
      return 'unverified';
    }
  }
}

/**
 * At most one log line per key per interval, for what a peer can repeat at will (refused posts, an
 * unreachable Leshan, refused points): the first one is logged, the rest are counted and the count goes
 * with the next line that is logged. Keys are few (a route and status, a reason); the map is bounded anyway.
 */
const MAX_KEYS = 256;

export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * undefined: do not log this one (it was counted). Otherwise log it, with `suppressed` lines of the same
   * key left out since the last one logged (0 for the first).
   */
  take(key: string): { suppressed: number } | undefined {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (!entry && this.last.size >= MAX_KEYS) this.last.clear();
    this.last.set(key, { at: now, suppressed: 0 });
    return { suppressed: entry?.suppressed ?? 0 };
  }
}

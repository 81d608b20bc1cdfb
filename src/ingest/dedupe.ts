/** Where a value came in: the forked Leshan's posts, or Leshan's event stream. */
export type IngestSource = 'post' | 'event';

/**
 * With `leshan.ingress: both`, the forked Leshan posts a notification and its event stream announces the
 * same one: the second arrival of a value from the OTHER source within `windowMs` is not written again.
 * (The same value twice from one source is two readings and stays.) Two generations of maps rotated every
 * window keep memory bounded without scanning.
 */
export class CrossSourceDedupe {
  private current = new Map<string, IngestSource>();
  private previous = new Map<string, IngestSource>();
  private rotatedAt: number;

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.rotatedAt = now();
  }

  /** True when `key` was just seen from the other source (and is then consumed); otherwise records it. */
  isDuplicate(key: string, source: IngestSource): boolean {
    const t = this.now();
    if (t - this.rotatedAt >= this.windowMs) {
      this.previous = t - this.rotatedAt >= 2 * this.windowMs ? new Map() : this.current;
      this.current = new Map();
      this.rotatedAt = t;
    }
    const seen = this.current.get(key) ?? this.previous.get(key);
    if (seen !== undefined && seen !== source) {
      this.current.delete(key);
      this.previous.delete(key);
      return true;
    }
    this.current.set(key, source);
    return false;
  }
}

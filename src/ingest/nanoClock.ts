/**
 * Unique, increasing timestamps in ns for points: the ms clock plus a counter within the ms. Two values
 * of one series received in the same ms would otherwise share a timestamp, and InfluxDB would keep
 * only the last. Unique timestamps also make a replayed write idempotent (it overwrites itself).
 */
export class NanoClock {
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The next timestamp, as the decimal digits of ns since the epoch. */
  next(): string {
    const ms = this.now();
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.seq = 0;
    } else if (++this.seq > 999_999) {
      this.lastMs++; // a million points in one ms: borrow the next ms rather than repeat
      this.seq = 0;
    }
    return `${this.lastMs}${String(this.seq).padStart(6, '0')}`;
  }
}

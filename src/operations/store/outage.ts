/**
 * The operation store's write outage: from a failed write (disk full, I/O error) until a retried write
 * succeeds. While it lasts the store refuses changes; those waiting for it to end are told when it does.
 */
export class WriteOutage {
  private failure: { reason: string; since: string } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];

  /** Why writes fail and since when (ISO-8601), while they do. */
  get current(): { reason: string; since: string } | undefined {
    return this.failure;
  }

  /** A write failed; true when that starts an outage (the first failure), false when one lasts already. */
  begin(reason: string, since: string): boolean {
    if (this.failure) return false;
    this.failure = { reason, since };
    return true;
  }

  /**
   * Tries `write` again after `ms`; the outage ends when it resolves (`ended` is told since when it lasted).
   * A failure instead is reported by the writer, which asks for the next try.
   */
  retryIn(ms: number, write: () => Promise<void>, ended: (since: string) => void): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      write().then(
        () => {
          if (!this.failure) return;
          const { since } = this.failure;
          this.failure = undefined;
          ended(since);
          for (const resolve of this.waiters.splice(0)) resolve();
        },
        () => {},
      );
    }, ms);
  }

  /** Resolves when writes succeed again (at once when they do). */
  whenOver(): Promise<void> {
    if (this.failure === undefined) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The store closes: no more tries; those waiting are let go. */
  stop(): void {
    clearTimeout(this.retryTimer);
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

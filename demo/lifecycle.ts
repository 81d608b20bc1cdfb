/** Stopping the demo and its timers: the one stop request, the timers cleared at the stop, waiting with a deadline. */

/** The first stop request (SIGINT/SIGTERM, DEMO_SECONDS, the daemon's exit) wins; `requested` resolves then. */
export class StopSignal {
  private why: string | undefined;
  private resolve!: () => void;
  readonly requested = new Promise<void>((r) => (this.resolve = r));

  /** Why the demo stops (undefined: not stopping). */
  get reason(): string | undefined {
    return this.why;
  }

  get stopping(): boolean {
    return this.why !== undefined;
  }

  /** True for the first request; false when a stop was already requested (`reason` stays the first one). */
  request(reason: string): boolean {
    if (this.why !== undefined) return false;
    this.why = reason;
    this.resolve();
    return true;
  }

  /** During the start: throws StopDuringStart once a stop was requested. */
  check(): void {
    if (this.why !== undefined) throw new StopDuringStart();
  }
}

/** Thrown by `StopSignal.check()`: the start ends early because the demo stops (not an error). */
export class StopDuringStart extends Error {}

/** setTimeout and setInterval, all cleared by `clear()`. */
export class Timers {
  private readonly timers = new Set<NodeJS.Timeout>();

  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.timers.add(t);
  }

  clear(): void {
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until `cond()` holds, `ms` passed or the demo stops. */
export async function waitFor(cond: () => boolean, ms: number, stop: StopSignal): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline && !stop.stopping) await sleep(50);
}

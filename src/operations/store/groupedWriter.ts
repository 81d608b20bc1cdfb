interface Group {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function group(): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Some callers do not wait (markSending): their failure is logged by the writer, not unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Groups writes of a whole-file store: one write in flight at a time; every change made while it runs
 * joins the next group, written by one single write when the current one is done. Each caller's promise
 * resolves when a write that includes its change is on disk, or rejects if that write fails.
 *
 * `write()` must take its snapshot synchronously (the DurableFile adapter does): the changes included
 * in a write are exactly those made before it started.
 */
export class GroupedWriter {
  private pending: Group | undefined;
  private inFlight: { group: Group; seq: number } | undefined;
  private changeSeq = 0;
  private writtenSeq = 0;
  /** Writes that reached the disk. */
  writes = 0;
  /** Duration of the last successful write, ms. */
  lastWriteMs = 0;

  /**
   * @param onError called when a write failed, before its callers (and those of the group waiting behind
   *   it, whose changes were made on top of the failed ones) are rejected: the store undoes them there.
   * @param onWriteStart called synchronously just before each write takes its snapshot.
   */
  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (e: unknown) => void,
    private readonly onWriteStart: () => void = () => {},
  ) {}

  /** Records a change (already made in memory); resolves once it is on disk. */
  changed(): Promise<void> {
    this.changeSeq++;
    return this.schedule();
  }

  /** True while some change is not known to be on disk. */
  get dirty(): boolean {
    return this.writtenSeq < this.changeSeq;
  }

  /** Resolves once every change made so far is on disk; retries a write that failed. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    if (!this.pending && this.inFlight && this.inFlight.seq >= this.changeSeq) return this.inFlight.group.promise;
    return this.schedule();
  }

  private schedule(): Promise<void> {
    if (!this.pending) {
      this.pending = group();
      // A microtask later, so that changes made in the same tick (e.g. 1 000 concurrent creates) share it.
      if (!this.inFlight) queueMicrotask(() => this.start());
    }
    return this.pending.promise;
  }

  private start(): void {
    const current = this.pending;
    if (this.inFlight || !current) return;
    this.pending = undefined;
    const seq = this.changeSeq;
    this.inFlight = { group: current, seq };
    const started = performance.now();
    let writing: Promise<void>;
    try {
      this.onWriteStart();
      writing = this.write();
    } catch (e) {
      writing = Promise.reject(e);
    }
    writing
      .then(
        () => {
          this.writes++;
          this.lastWriteMs = performance.now() - started;
          if (seq > this.writtenSeq) this.writtenSeq = seq;
          current.resolve();
        },
        (e: unknown) => {
          this.onError(e);
          current.reject(e);
          // changes made while it ran were made on top of the failed ones: they fail with them
          const next = this.pending;
          this.pending = undefined;
          next?.reject(e);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.pending) this.start();
      });
  }
}

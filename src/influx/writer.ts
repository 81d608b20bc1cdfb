import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';
import type { InfluxConnection } from './connection.js';
import type { InfluxEndpoint } from './endpoint.js';
import type { Spool } from './spool.js';
import { sendBatch, type SendOutcome } from './send.js';
import { createWriterMetrics } from './writerMetrics.js';

export interface WriterTuning {
  /** Lines per request. */
  batchSize: number;
  /** Longest a line waits in memory before its batch is sent. */
  flushIntervalMs: number;
  /** Requests to InfluxDB at once. */
  maxInFlight: number;
  /** Lines held in memory waiting for a free request; more go to the spool. */
  maxQueuedLines: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export const DEFAULT_WRITER_TUNING: WriterTuning = {
  batchSize: 5000,
  flushIntervalMs: 1000,
  maxInFlight: 2,
  maxQueuedLines: 100_000,
  retryMinMs: 500,
  retryMaxMs: 30_000,
};

export interface InfluxWriterOptions extends Partial<WriterTuning> {
  endpoint: InfluxEndpoint;
  connection: InfluxConnection;
  spool: Spool;
  log: Logger;
  registry: Registry;
}

/** How long `stop()` keeps trying to send before it spools what is left. */
const STOP_SEND_MS = 2000;

/**
 * Batches line-protocol lines and writes them to InfluxDB. A line counts as written only when InfluxDB
 * acknowledged it (2xx). Two modes:
 * - direct: batches go from memory to InfluxDB, at most `maxInFlight` requests at once;
 * - spooling: after a write failed because InfluxDB is unreachable, slow or failing (connection error,
 *   5xx, 429, auth/database errors), that batch and every later one go to the on-disk spool, and one
 *   replay loop sends the spool in order, with exponential backoff and jitter (honouring Retry-After),
 *   until it is empty; then the writer is direct again.
 * A 413 splits the batch in two; a 400 splits it down to the single bad line, which is dropped, counted
 * and logged, so one invalid point never costs its neighbours.
 */
export class InfluxWriter {
  private batch: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: string[][] = [];
  private queuedLines = 0;
  private inFlight = 0;
  private spoolWrites = 0;
  private spooling = false;
  private replaying: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeReplay: (() => void) | undefined;
  private failures = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private readonly endpoint: InfluxEndpoint;
  private readonly connection: InfluxConnection;
  private readonly spool: Spool;
  private readonly log: Logger;
  private readonly options: WriterTuning;
  private readonly metrics: ReturnType<typeof createWriterMetrics>;

  constructor(options: InfluxWriterOptions) {
    const { endpoint, connection, spool, log, registry, ...tuning } = options;
    this.endpoint = endpoint;
    this.connection = connection;
    this.spool = spool;
    this.log = log;
    this.options = { ...DEFAULT_WRITER_TUNING };
    for (const [key, value] of Object.entries(tuning)) {
      if (value !== undefined) (this.options as unknown as Record<string, number>)[key] = value;
    }
    this.metrics = createWriterMetrics(registry, this);
    connection.onChange((state) => {
      if (state === 'up') this.wakeReplay?.();
    });
  }

  /** Points dropped because the spool was full. */
  get droppedFromSpool(): number {
    return this.spool.droppedLines;
  }

  /** The spool's own counts, for the metrics. */
  get spoolState(): Pick<Spool, 'droppedLines' | 'damagedLines' | 'damaged'> {
    return this.spool;
  }

  /** Points accepted but not yet acknowledged by InfluxDB, in memory. */
  get bufferedLines(): number {
    return this.batch.length + this.queuedLines;
  }

  get spooledLines(): number {
    return this.spool.lines;
  }

  get spoolBytes(): number {
    return this.spool.bytes;
  }

  /** Resumes replaying what a previous run spooled. */
  start(): void {
    if (!this.spool.empty) {
      this.log.info({ lines: this.spool.lines }, 'replaying spooled points');
      this.enterSpooling(0);
    }
  }

  /** Hot path: takes one line (no trailing newline). */
  write(line: string): void {
    this.batch.push(line);
    if (this.batch.length >= this.options.batchSize) this.seal();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.seal(), this.options.flushIntervalMs);
    }
  }

  /** Sends what is buffered now; resolves when every line accepted so far is written or on disk in the spool. */
  async flush(): Promise<void> {
    this.seal();
    await new Promise<void>((resolve) => {
      if (this.isIdle()) resolve();
      else this.idleWaiters.push(resolve);
    });
  }

  /**
   * Writes what it can within a short time and spools the rest (fsync'd), so a graceful restart loses
   * nothing; the replay resumes on the next start.
   */
  async stop(): Promise<void> {
    this.seal();
    const deadline = setTimeout(() => this.abort.abort(), STOP_SEND_MS);
    if (!this.spooling) await this.flush();
    this.stopped = true;
    this.wakeReplay?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.replaying;
    clearTimeout(deadline);
    await this.spoolQueue();
    await this.spool.close();
  }

  private isIdle(): boolean {
    return this.batch.length === 0 && this.queue.length === 0 && this.inFlight === 0 && this.spoolWrites === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private seal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    if (this.spooling || this.queuedLines + lines.length > this.options.maxQueuedLines) {
      void this.toSpool(lines);
      return;
    }
    this.queue.push(lines);
    this.queuedLines += lines.length;
    this.pump();
  }

  private pump(): void {
    while (!this.spooling && this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const lines = this.queue.shift()!;
      this.queuedLines -= lines.length;
      this.inFlight++;
      void this.deliver(lines).then((outcome) => {
        this.inFlight--;
        if (outcome.kind !== 'ok') {
          void this.toSpool(lines);
          this.enterSpooling(outcome.retryAfterMs);
        }
        this.pump();
        this.notifyIdle();
      });
    }
  }

  /** Sends lines, splitting on 413/400; resolves to ok, or to the retryable failure that stopped it. */
  private async deliver(lines: string[]): Promise<SendOutcome> {
    const started = performance.now();
    const outcome = await sendBatch(this.endpoint, lines, this.abort.signal);
    switch (outcome.kind) {
      case 'ok':
        this.metrics.batchSeconds.observe((performance.now() - started) / 1000);
        this.metrics.written.inc(lines.length);
        this.failures = 0;
        this.connection.reportSuccess();
        return outcome;
      case 'tooLarge':
      case 'invalid': {
        this.metrics.errors.inc({ kind: outcome.kind === 'tooLarge' ? 'too_large' : 'invalid' });
        if (lines.length === 1) {
          this.metrics.dropped.inc({ reason: outcome.kind === 'tooLarge' ? 'too_large' : 'invalid' });
          this.log.warn({ line: lines[0]!.slice(0, 300), error: outcome.message }, 'InfluxDB rejected a point; dropped');
          return { kind: 'ok' };
        }
        const half = lines.length >> 1;
        const first = await this.deliver(lines.slice(0, half));
        if (first.kind !== 'ok') return first; // the caller spools the whole batch; rewriting is idempotent
        return this.deliver(lines.slice(half));
      }
      default:
        this.metrics.errors.inc({ kind: outcome.kind });
        // 429 means InfluxDB is there but busy: not a connection problem
        if (outcome.kind !== 'aborted' && outcome.kind !== 'rate_limited') this.connection.reportFailure(outcome.message);
        return outcome;
    }
  }

  private async toSpool(lines: string[]): Promise<void> {
    this.spoolWrites++;
    try {
      await this.spool.append(lines);
    } catch (err) {
      this.metrics.dropped.inc({ reason: 'spool_error' }, lines.length);
      this.log.error({ err, lines: lines.length }, 'could not spool points; dropped');
    } finally {
      this.spoolWrites--;
      this.notifyIdle();
    }
  }

  /** Moves every queued batch to the spool; all appends start now (they run in order) so flush() sees them. */
  private async spoolQueue(): Promise<void> {
    this.seal();
    const queued = this.queue.splice(0);
    this.queuedLines = 0;
    await Promise.all(queued.map((lines) => this.toSpool(lines)));
  }

  private enterSpooling(retryAfterMs?: number): void {
    if (!this.spooling) {
      this.spooling = true;
      this.log.warn({ spooled: this.spool.lines }, 'InfluxDB write failed; spooling points until it is back');
    }
    void this.spoolQueue();
    this.replaying ??= this.replay(retryAfterMs).finally(() => {
      this.replaying = undefined;
    });
  }

  /** The one loop that drains the spool in order; direct mode resumes when it is empty. */
  private async replay(firstDelayMs?: number): Promise<void> {
    let delay = firstDelayMs ?? this.backoff();
    for (;;) {
      if (delay > 0) await this.sleep(delay);
      if (this.stopped) return;
      const batch = await this.spool.read(this.options.batchSize);
      if (!batch) {
        if (this.spool.empty && this.queue.length === 0 && this.spoolWrites === 0) {
          this.spooling = false;
          this.log.info('spool replayed; writing directly again');
          this.pump();
          this.notifyIdle();
          return;
        }
        delay = 50; // lines are still being appended; look again shortly
        continue;
      }
      const outcome = await this.deliver(batch.lines);
      if (outcome.kind === 'ok') {
        await batch.ack();
        delay = 0;
      } else {
        this.spool.rewind();
        delay = outcome.retryAfterMs ?? this.backoff();
      }
    }
  }

  private backoff(): number {
    const { retryMinMs, retryMaxMs } = this.options;
    const base = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(this.failures++, 16));
    return base / 2 + Math.random() * (base / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.wakeReplay = undefined;
        resolve();
      };
      this.retryTimer = setTimeout(done, ms);
      this.wakeReplay = done;
    });
  }
}

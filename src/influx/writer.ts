import path from 'node:path';
import type { Registry } from 'prom-client';
import type { LogSink } from '../log/logger.js';
import type { InfluxConnection } from './connection.js';
import type { InfluxEndpoint } from './endpoint.js';
import { RejectedLines } from './rejected.js';
import type { Spool } from './spool.js';
import { sendBatch, type SendFailure } from './send.js';
import { createWriterMetrics } from './writerMetrics.js';
import { errorFields } from '../log/errorText.js';
import { LogThrottle } from '../log/throttle.js';
import { snakeLabel } from '../metrics/labels.js';

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
  /** Cap of `rejected.lp` in the spool dir, where refused lines are set aside (twice this at most on disk). */
  rejectedMaxBytes: number;
  /** How long /ping may take to count as an answer. */
  pingTimeoutMs: number;
}

export const DEFAULT_WRITER_TUNING: WriterTuning = {
  batchSize: 5000,
  flushIntervalMs: 1000,
  maxInFlight: 2,
  maxQueuedLines: 100_000,
  retryMinMs: 500,
  retryMaxMs: 30_000,
  rejectedMaxBytes: 8 * 1024 * 1024,
  pingTimeoutMs: 2000,
};

export interface InfluxWriterOptions extends Partial<WriterTuning> {
  endpoint: InfluxEndpoint;
  connection: InfluxConnection;
  spool: Spool;
  log: LogSink;
  registry: Registry;
}

/** How a set of lines went: `done` of them, from the first, are written or set aside; `failure` stopped the rest. */
interface Delivery {
  done: number;
  failure?: SendFailure;
}

/** At most one log line per this long about refused points (each is counted, and kept in rejected.lp). */
const SET_ASIDE_LOG_MS = 10_000;

/** How long `stop()` keeps trying to send before it spools what is left. */
const STOP_SEND_MS = 2000;

/**
 * Batches line-protocol lines and writes them to InfluxDB. A line counts as written only when InfluxDB
 * acknowledged it (2xx). Two modes:
 * - direct: batches go from memory to InfluxDB, at most `maxInFlight` requests at once;
 * - spooling: after a write failed because InfluxDB is unreachable, slow or failing (connection error with
 *   /ping not answering, timeout, 5xx, 429, auth/database errors), that batch and every later one go to the
 *   on-disk spool, and one replay loop sends the spool in order, with exponential backoff and jitter
 *   (honouring Retry-After), until it is empty; then the writer is direct again.
 * A batch that is itself at fault is bisected, in both modes: a 413 or 400 splits it, and so does a failure
 * without a readable answer while InfluxDB answers /ping (InfluxDB 1.x echoes a refused line in a header
 * undici cannot parse when the line holds a control byte). A single line still refused that way is set
 * aside (kept in `rejected.lp` in the spool dir, counted in points_dropped_total by reason, logged at most
 * every 10 s), so one bad point never costs its neighbours nor holds back what comes after it.
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
  private readonly log: LogSink;
  private readonly options: WriterTuning;
  private readonly metrics: ReturnType<typeof createWriterMetrics>;
  private readonly rejected: RejectedLines;
  private readonly setAsideLog = new LogThrottle(SET_ASIDE_LOG_MS);

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
    this.rejected = new RejectedLines(path.join(spool.dir, 'rejected.lp'), this.options.rejectedMaxBytes, log);
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
      void this.deliver(lines).then(({ done, failure }) => {
        this.inFlight--;
        if (failure) {
          void this.toSpool(lines.slice(done));
          this.enterSpooling(failure.retryAfterMs);
        }
        this.pump();
        this.notifyIdle();
      });
    }
  }

  /**
   * Sends lines in order, bisecting a batch that is itself at fault. Resolves to how many lines, from the
   * first, are written or set aside, and to the failure that stopped the rest (InfluxDB unreachable,
   * failing or busy: they are to be retried later).
   */
  private async deliver(lines: readonly string[], retried = false): Promise<Delivery> {
    const started = performance.now();
    const outcome = await sendBatch(this.endpoint, lines, this.abort.signal);
    if (outcome.kind === 'ok') {
      this.metrics.batchSeconds.observe((performance.now() - started) / 1000);
      this.metrics.written.inc(lines.length);
      this.failures = 0;
      this.connection.reportSuccess();
      return { done: lines.length };
    }
    switch (outcome.kind) {
      case 'tooLarge':
      case 'invalid': {
        const reason = outcome.kind === 'tooLarge' ? 'too_large' : 'invalid';
        this.metrics.errors.inc({ kind: reason });
        if (lines.length > 1) return this.split(lines);
        await this.setAside(lines[0]!, reason, outcome.message);
        return { done: 1 };
      }
      case 'connection': {
        // no readable answer: InfluxDB is unreachable, or it refused the batch in a way undici cannot read
        if (!this.abort.signal.aborted && (await this.connection.answersPing(this.options.pingTimeoutMs))) {
          this.metrics.errors.inc({ kind: 'unreadable_response' });
          if (lines.length > 1) return this.split(lines);
          if (!retried) return this.deliver(lines, true); // once more: the connection may just have dropped
          // the line alone fails twice: set it aside only if the write path itself answers (an empty write)
          if (await this.writesAnswer()) {
            await this.setAside(lines[0]!, 'unreadable_response', outcome.message);
            return { done: 1 };
          }
        }
        break;
      }
      case 'timeout':
        // slow is not refused: the batch is retried later as it is; InfluxDB is down only if it does not answer /ping
        this.metrics.errors.inc({ kind: 'timeout' });
        if (!this.abort.signal.aborted && !(await this.connection.answersPing(this.options.pingTimeoutMs))) {
          this.connection.reportFailure(outcome.message);
        }
        return { done: 0, failure: outcome };
      default:
        break;
    }
    this.metrics.errors.inc({ kind: snakeLabel(outcome.kind) });
    // 429 means InfluxDB is there but busy: not a connection problem
    if (outcome.kind !== 'aborted' && outcome.kind !== 'rate_limited') this.connection.reportFailure(outcome.message);
    return { done: 0, failure: outcome };
  }

  /**
   * Whether an empty write gets an answer the client can read (InfluxDB 1.x: 204): then a line whose
   * write never does is at fault, not something between us and InfluxDB that breaks every write.
   */
  private async writesAnswer(): Promise<boolean> {
    const probe = await sendBatch(this.endpoint, [], this.abort.signal);
    return probe.kind !== 'connection' && probe.kind !== 'timeout' && probe.kind !== 'aborted';
  }

  /** Delivers both halves in order; stops at the first failure (the rest is retried later). */
  private async split(lines: readonly string[]): Promise<Delivery> {
    const half = lines.length >> 1;
    const first = await this.deliver(lines.slice(0, half));
    if (first.failure) return first;
    const second = await this.deliver(lines.slice(half));
    return { done: half + second.done, ...(second.failure ? { failure: second.failure } : {}) };
  }

  /** A line InfluxDB refused on its own: counted, kept in rejected.lp, logged (rate-limited); never retried. */
  private async setAside(line: string, reason: string, error: string): Promise<void> {
    this.metrics.dropped.inc({ reason });
    await this.rejected.add(line, reason, error);
    const logged = this.setAsideLog.take('set aside');
    if (!logged) return;
    this.log.warn(
      {
        reason,
        error: error.slice(0, 300),
        line: line.slice(0, 300),
        ...(logged.suppressed > 0 ? { alsoSetAsideSinceLastLog: logged.suppressed } : {}),
      },
      'InfluxDB refused a point; set it aside in rejected.lp, not retried',
    );
  }

  private async toSpool(lines: string[]): Promise<void> {
    this.spoolWrites++;
    try {
      await this.spool.append(lines);
    } catch (err) {
      this.metrics.dropped.inc({ reason: 'spool_error' }, lines.length);
      this.log.error({ ...errorFields(err), lines: lines.length }, 'could not spool points; dropped');
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
          this.log.info({}, 'spool replayed; writing directly again');
          this.pump();
          this.notifyIdle();
          return;
        }
        delay = 50; // lines are still being appended; look again shortly
        continue;
      }
      const { done, failure } = await this.deliver(batch.lines);
      if (!failure) {
        await batch.ack();
        delay = 0;
      } else {
        if (done > 0) await batch.ack(done); // written or set aside: never sent again
        this.spool.rewind();
        delay = failure.retryAfterMs ?? this.backoff();
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

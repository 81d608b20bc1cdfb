import pLimit, { type LimitFunction } from 'p-limit';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { DeliveryOutput, DeliveryResult } from '../endpoints/endpointMachine.js';
import type { AttemptResult } from '../leshan/responses.js';
import type { LogSink } from '../log/logger.js';
import type { Operation } from './operation.js';
import { settle } from './outcome.js';
import { StoreUnavailableError } from './store/errors.js';
import { errorFields } from '../log/errorText.js';
import { snakeLabel } from '../metrics/labels.js';

/** Kinds whose request leaves only once its SENDING is on disk (see `attempt`): running them twice is not harmless. */
const ONCE_ONLY: ReadonlySet<Operation['kind']> = new Set(['execute', 'delete']);

/** The part of the store delivery uses. */
export interface DeliveryStore {
  nextQueued(ep: string): Operation | undefined;
  get(id: string): Operation | undefined;
  markSending(id: string): Operation;
  /** Resolves once every change so far is on disk; rejects when they could not be written (and were undone). */
  flush(): Promise<void>;
  /** False while the store cannot write (delivery pauses). */
  readonly available: boolean;
  /** Resolves when the store takes changes again. */
  whenWritable(): Promise<void>;
  settle(
    id: string,
    patch: { status: Operation['status']; result?: Operation['result']; error?: string; countAttempt?: boolean },
  ): Promise<Operation>;
  expire(id: string): Promise<Operation>;
}

/** The part of the Leshan client delivery uses. */
export interface DeliveryClient {
  send(op: Operation): Promise<{ attempt: AttemptResult; ms: number }>;
}

export interface DeliveryOptions {
  store: DeliveryStore;
  client: DeliveryClient;
  maxAttempts: number;
  /** Requests to Leshan at once, over all endpoints: a wake storm must not flood Leshan. */
  maxConcurrent: number;
  now: () => number;
  log: LogSink;
  registry: Registry;
  /** A confirmed read or observe returned this content (to be written to InfluxDB). */
  onContent?: (op: Operation, content: unknown) => void;
  /**
   * Where operations that Leshan queued itself (200 `delayed`, Leshan >= 2.0.0-M17) wait for their
   * REQUEST_RESPONSE event. Only with the event stream: without it such an answer counts as "asleep".
   */
  delayed?: { hold(op: Operation, requestId: string): Promise<void> };
}

/**
 * Sends one endpoint's oldest queued operation through Leshan and records the outcome: the effect the
 * endpoint machine invokes as `deliverNext`. All endpoints share one limit on requests in flight.
 */
export class Delivery {
  private readonly limit: LimitFunction;
  private readonly inFlight = new Set<Promise<DeliveryOutput>>();
  private readonly outcomes: Counter<'kind'>;
  private readonly latency: Histogram<'kind'>;
  /** Set by close(): outcomes arriving later are not recorded (the store is closing). */
  private closed = false;

  constructor(private readonly options: DeliveryOptions) {
    this.limit = pLimit(options.maxConcurrent);
    this.outcomes = new Counter({
      name: 'lwm2m_backend_leshan_requests_total',
      help: 'Requests to Leshan by outcome (confirmed, device_error, not_delivered, delayed, unreachable)',
      labelNames: ['kind'],
      registers: [options.registry],
    });
    this.latency = new Histogram({
      name: 'lwm2m_backend_leshan_request_seconds',
      help: 'Time Leshan took to answer, by outcome',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [options.registry],
    });
  }

  /** Requests waiting for a free slot. */
  get waiting(): number {
    return this.limit.pendingCount;
  }

  deliverNext = async (ep: string): Promise<DeliveryOutput> => {
    const { store, now } = this.options;
    // nothing goes out while the store cannot record it: paused like an unreachable Leshan
    if (!store.available) return { result: 'unreachable', at: now() };
    const next = store.nextQueued(ep);
    if (!next) return { result: 'idle', at: now() };
    if (next.expiresAt !== undefined && Date.parse(next.expiresAt) <= now()) {
      await store.expire(next.id);
      this.options.log.info({ ep, id: next.id }, 'operation expired before it could be sent');
      return { result: 'delivered', at: now() };
    }
    return this.limit(async () => {
      // only started attempts are tracked: those still waiting for a slot are dropped at shutdown
      const running = this.attempt(ep, next.id);
      this.inFlight.add(running);
      try {
        return await running;
      } finally {
        this.inFlight.delete(running);
      }
    });
  };

  /** Waits for the attempts in flight (at shutdown), at most `ms`; says whether they all finished. */
  async drain(ms: number): Promise<boolean> {
    this.limit.clearQueue(); // attempts still waiting for a slot have not started: they stay QUEUED
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const done = Promise.allSettled([...this.inFlight]).then(() => true);
    const finished = await Promise.race([done, timeout]);
    clearTimeout(timer);
    return finished;
  }

  /**
   * At shutdown, after drain() and the Leshan client's abort: attempts still unsettled (the store cannot
   * write) are left as they are: SENDING on disk, requeued at the next start as after a crash.
   */
  close(): void {
    this.closed = true;
  }

  private async attempt(ep: string, id: string): Promise<DeliveryOutput> {
    const { store, client, now } = this.options;
    // it may have been cancelled while waiting for a slot
    if (store.get(id)?.status !== 'QUEUED') return { result: 'delivered', at: now() };
    const op = store.markSending(id);
    const onDisk = store.flush();
    let sending: Promise<{ attempt: AttemptResult; ms: number }> | undefined;
    // A request that is safe to repeat leaves while its SENDING is being written (the fdatasync, up to
    // several ms on an SD card, is then off the wake-to-request path); an execute or a delete, which must
    // not run twice, leaves only once SENDING is on disk. Either way the outcome is recorded only after
    // SENDING is on disk: a crash while handling the answer has the attempt counted.
    if (!ONCE_ONLY.has(op.kind)) sending = client.send(op);
    try {
      await onDisk;
    } catch {
      // undone: QUEUED again, sent once the disk takes writes; an answer to a request already sent is not recorded
      await sending?.catch(() => undefined);
      return { result: 'unreachable', at: now() };
    }
    const { attempt, ms } = await (sending ?? client.send(op));
    if (this.closed) return { result: 'unreachable', at: now() };
    this.outcomes.inc({ kind: snakeLabel(attempt.kind) });
    if (attempt.kind !== 'unreachable') this.latency.observe({ kind: snakeLabel(attempt.kind) }, ms / 1000);
    if (attempt.kind === 'delayed' && this.options.delayed) {
      await this.options.delayed.hold(op, attempt.requestId);
      return { result: 'asleep', at: now() };
    }
    const outcome = await this.apply(op, attempt);
    // the device itself answered: Leshan restarted its awake timer, the endpoint's window moves with it
    const answered = attempt.kind === 'confirmed' || attempt.kind === 'deviceError';
    return { result: outcome, at: now(), answered };
  }

  /** Records the outcome of an attempt on the operation (in SENDING); says what the endpoint's queue does next. */
  async apply(op: Operation, attempt: AttemptResult): Promise<DeliveryResult> {
    const { store, log } = this.options;
    const outcome = settle(op, attempt, this.options.maxAttempts);
    const patch = {
      status: outcome.status,
      countAttempt: outcome.countAttempt,
      ...(outcome.result ? { result: outcome.result } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    let settled: Operation;
    for (;;) {
      try {
        settled = await store.settle(op.id, patch);
        break;
      } catch (err) {
        // the answer is known but the disk did not take it: record it once it does (a stop meanwhile
        // leaves it SENDING on disk, requeued at the next start like a crash)
        if (!(err instanceof StoreUnavailableError)) throw err;
        log.warn({ ep: op.ep, id: op.id }, 'outcome not recorded yet: the operation store cannot write');
        await store.whenWritable();
      }
    }
    log.debug({ ep: op.ep, id: op.id, kind: op.kind, path: op.path, status: settled.status }, 'attempt settled');
    if (settled.status === 'FAILED') log.warn({ ep: op.ep, id: op.id, error: settled.error }, 'operation failed');
    if (settled.status === 'CONFIRMED' && settled.result?.content !== undefined && (op.kind === 'read' || op.kind === 'observe')) {
      try {
        this.options.onContent?.(settled, settled.result.content);
      } catch (err) {
        log.warn({ ep: op.ep, id: op.id, ...errorFields(err) }, 'could not record the content read');
      }
    }
    return outcome.endpoint;
  }
}

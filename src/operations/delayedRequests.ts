import type { DeliveryResult } from '../endpoints/endpointMachine.js';
import { classifyDeviceResponse, type AttemptResult } from '../leshan/responses.js';
import type { LogSink } from '../log/logger.js';
import type { Operation } from './operation.js';

interface Held {
  op: Operation;
  requestId: string;
  timer?: NodeJS.Timeout;
}

export interface DelayedRequestsOptions {
  /** Settles an operation in SENDING with the outcome of its attempt (Delivery.apply). */
  apply(op: Operation, attempt: AttemptResult): Promise<DeliveryResult>;
  /** An operation of `ep` was settled: its queue may go on. */
  settled(ep: string): void;
  /** How long after the device's AWAKE its answer may take before the request is taken as lost. */
  answerWaitMs: number;
  log: LogSink;
}

/**
 * Operations that Leshan (2.0.0-M17 and later) queued itself for a sleeping device: it answered 200
 * `{"delayed":true,"requestId"}`, sends the request on the device's next AWAKE and reports the device's
 * answer only as a REQUEST_RESPONSE event. Such an operation stays SENDING (never CONFIRMED on the
 * delayed answer) until that event settles it. Leshan's queue is thin, so nothing waits forever:
 * - it keeps only the newest request per device: an older one held here will never be answered;
 * - a request that times out or fails after the AWAKE gets no event at all;
 * - deregistration drops it.
 * In each case the operation goes back to QUEUED with its attempt counted (or FAILED at maxAttempts).
 */
export class DelayedRequests {
  private readonly byRequest = new Map<string, Held>();
  private readonly byEndpoint = new Map<string, Held>();

  constructor(private readonly options: DelayedRequestsOptions) {}

  get size(): number {
    return this.byRequest.size;
  }

  async hold(op: Operation, requestId: string): Promise<void> {
    const previous = this.byEndpoint.get(op.ep);
    const held: Held = { op, requestId };
    this.byRequest.set(requestId, held);
    this.byEndpoint.set(op.ep, held);
    this.options.log.info({ ep: op.ep, id: op.id, requestId }, 'Leshan queued the request until the device wakes');
    if (previous) await this.lose(previous, "replaced in Leshan's queue by a newer request (Leshan keeps one per device)");
  }

  /** REQUEST_RESPONSE: the device answered a request Leshan had queued. */
  async response(requestId: string, response: unknown): Promise<boolean> {
    const held = this.byRequest.get(requestId);
    if (!held) return false;
    this.forget(held);
    await this.options.apply(held.op, classifyDeviceResponse(response));
    this.options.settled(held.op.ep);
    return true;
  }

  /** The device is awake: Leshan sends the queued request now; its answer should follow soon. */
  awake(ep: string): void {
    const held = this.byEndpoint.get(ep);
    if (!held || held.timer) return;
    held.timer = setTimeout(() => void this.lose(held, 'Leshan sent its queued request but reported no answer'), this.options.answerWaitMs);
    held.timer.unref();
  }

  /** The device deregistered: Leshan drops its queued request. */
  async deregistered(ep: string): Promise<void> {
    const held = this.byEndpoint.get(ep);
    if (held) await this.lose(held, 'the device deregistered and Leshan dropped its queued request');
  }

  stop(): void {
    for (const held of this.byRequest.values()) clearTimeout(held.timer);
    this.byRequest.clear();
    this.byEndpoint.clear();
  }

  private async lose(held: Held, why: string): Promise<void> {
    if (this.byRequest.get(held.requestId) !== held) return;
    this.forget(held);
    this.options.log.warn({ ep: held.op.ep, id: held.op.id, requestId: held.requestId }, why);
    await this.options.apply(held.op, { kind: 'notDelivered', reason: 'other', httpStatus: 200, message: `Leshan: ${why}` });
    this.options.settled(held.op.ep);
  }

  private forget(held: Held): void {
    clearTimeout(held.timer);
    this.byRequest.delete(held.requestId);
    if (this.byEndpoint.get(held.op.ep) === held) this.byEndpoint.delete(held.op.ep);
  }
}

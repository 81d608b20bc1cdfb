/*
 * The daemon's client of Leshan's demo REST API: one keep-alive undici Pool, one request per operation attempt.
 * Leshan holds each call open until the device answers or its own `?timeout=` expires (then 504), so every
 * request gets an overall deadline of `requestTimeoutS + timeoutMarginS`, covering the response headers and
 * the whole body (undici's own headersTimeout/bodyTimeout only bound the wait for each chunk, so a Leshan
 * dripping a byte now and then would hold a request for ever). Leshan always answers first; past the deadline
 * Leshan is stuck. The body is read incrementally and cut off past `maxResponseBytes`.
 *
 * What a cut-off answer counts as (the outcome table of the README):
 * - past the deadline: a Leshan timeout (`notDelivered`/`timeout`: counted, QUEUED or FAILED at maxAttempts);
 * - larger than maxResponseBytes: an unexpected answer (`notDelivered`/`other`, counted), never stored;
 * - for an `execute`, either one is a connection cut after the request was sent (`unknownOutcome`: FAILED,
 *   never repeated, as the device may have run it).
 * `abort()` (at shutdown) ends every request in flight: `unreachable` (not counted), or `unknownOutcome` for
 * an execute already sent.
 */
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import type { LogSink } from '../log/logger.js';
import { jsonNestingExceeds, MAX_LESHAN_JSON_DEPTH } from './jsonDepth.js';
import { buildRequest, type RequestSpec, type WriteFormat, encodeEndpoint } from './requests.js';
import { classifyCancelObserve, classifyResponse, type AttemptResult } from './responses.js';
import { errorText } from '../log/errorText.js';
import { leshanBase } from './baseUrl.js';
import { WriteFormats } from './writeFormats.js';

/** Default of `timeoutMarginS`: how much longer than Leshan's own `?timeout=` a request may take in all. */
export const DEFAULT_TIMEOUT_MARGIN_S = 10;
/** Default of `maxResponseBytes` (the configuration's `leshan.maxResponseBytes`). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** The overall deadline of one request to Leshan, in ms. */
export function leshanDeadlineMs(requestTimeoutS: number, timeoutMarginS: number = DEFAULT_TIMEOUT_MARGIN_S): number {
  return Math.round((requestTimeoutS + timeoutMarginS) * 1000);
}

export interface LeshanClientOptions {
  /** Leshan's base URL, e.g. `http://127.0.0.1:8080` (a path prefix such as `/leshan` behind a proxy is kept). */
  url: string;
  /** The `?timeout=` sent with every operation, in whole seconds: how long Leshan waits for the device. */
  requestTimeoutS: number;
  /** Most connections kept open to Leshan. */
  connections: number;
  log?: LogSink;
  /** How much longer than `requestTimeoutS` a request may take, headers and whole body (default 10 s). */
  timeoutMarginS?: number;
  /** Largest answer body read (default 1 MiB); a bigger one is cut off and the attempt fails. */
  maxResponseBytes?: number;
  /**
   * Content format of writes, unless a device's registration says it does not support it (writeFormats.ts);
   * without it Leshan picks its default (TLV).
   */
  writeFormat?: WriteFormat;
}

/** One attempt: what it came to and how long it took (ms, wall clock). */
export interface SendResult {
  attempt: AttemptResult;
  ms: number;
}

export class LeshanClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutS: number;
  private readonly deadlineMs: number;
  private readonly maxBytes: number;
  /** Each endpoint's write format (fed with its registrations); undefined without a configured format. */
  readonly writeFormats: WriteFormats | undefined;
  private readonly log: LogSink | undefined;
  /** Requests in flight, so that abort() can end them. */
  private readonly inFlight = new Set<AbortController>();
  private aborted = false;

  /** @throws Error on a malformed URL or out-of-range numbers (configuration errors). */
  constructor(options: LeshanClientOptions) {
    const { origin, basePath } = leshanBase(options.url);
    if (!Number.isSafeInteger(options.requestTimeoutS) || options.requestTimeoutS < 1) {
      throw new Error(`requestTimeoutS must be a whole number of seconds >= 1, got ${options.requestTimeoutS}`);
    }
    if (!Number.isSafeInteger(options.connections) || options.connections < 1) {
      throw new Error(`connections must be an integer >= 1, got ${options.connections}`);
    }
    const marginS = options.timeoutMarginS ?? DEFAULT_TIMEOUT_MARGIN_S;
    if (!(marginS > 0)) throw new Error(`timeoutMarginS must be > 0, got ${marginS}`);
    const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.writeFormats = options.writeFormat ? new WriteFormats(options.writeFormat, options.log) : undefined;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new Error(`maxResponseBytes must be an integer >= 1, got ${maxBytes}`);
    this.basePath = basePath;
    this.timeoutS = options.requestTimeoutS;
    this.maxBytes = maxBytes;
    this.log = options.log;
    this.deadlineMs = leshanDeadlineMs(options.requestTimeoutS, marginS);
    this.pool = new Pool(origin, {
      connections: options.connections,
      // the overall deadline (exchange) bounds both; these per-chunk timeouts would only fire later
      headersTimeout: this.deadlineMs + 1000,
      bodyTimeout: this.deadlineMs + 1000,
      connectTimeout: Math.min(this.deadlineMs, 5000),
    });
  }

  /** Sends one operation and classifies Leshan's answer. Never throws. */
  async send(op: RequestSpec): Promise<SendResult> {
    const t0 = performance.now();
    let attempt: AttemptResult;
    let req;
    try {
      req = buildRequest(op, this.timeoutS, this.writeFormats ? { writeFormat: this.writeFormats.for(op.ep) } : {});
    } catch (e) {
      // Leshan would refuse it anyway: count it as an attempt Leshan rejected, never retry forever.
      attempt = { kind: 'notDelivered', reason: 'invalidRequest', httpStatus: 0, message: `not sent: ${errorText(e)}` };
      return this.done(op, undefined, attempt, t0);
    }
    const answer = await this.exchange(req.method, this.basePath + req.path, req.headers, req.body ?? null);
    if (answer.kind === 'answer') {
      const classify = op.kind === 'cancel-observe' ? classifyCancelObserve : classifyResponse;
      attempt = classify(answer.status, answer.contentType, answer.text, this.timeoutS);
    } else if (op.kind === 'execute' && (answer.kind !== 'error' || !beforeSending(answer.error))) {
      const what = answer.kind === 'error' ? `connection to Leshan lost (${this.cut(answer)})` : `Leshan: ${this.cut(answer)}`;
      attempt = {
        kind: 'notDelivered',
        reason: 'unknownOutcome',
        httpStatus: answer.status,
        message: `${what} after the execute was sent: the device may have run it`,
      };
    } else if (answer.kind === 'deadline') {
      attempt = {
        kind: 'notDelivered',
        reason: 'timeout',
        httpStatus: answer.status,
        message: `Leshan: ${this.cut(answer)} (Leshan stuck past its own timeout)`,
      };
    } else if (answer.kind === 'tooLarge') {
      attempt = {
        kind: 'notDelivered',
        reason: 'other',
        httpStatus: answer.status,
        message: `Leshan: unexpected answer (${this.cut(answer)}; not kept)`,
      };
    } else {
      attempt = { kind: 'unreachable', message: `Leshan unreachable: ${this.cut(answer)}` };
    }
    return this.done(op, req.method, attempt, t0);
  }

  /** `GET /api/clients`: Leshan's registrations (docs/leshan-rest-api.md §6), as parsed JSON. */
  async listClients(): Promise<unknown[]> {
    const answer = await this.exchange('GET', `${this.basePath}/api/clients`, {}, null);
    if (answer.kind === 'error' || answer.kind === 'aborted') throw new Error(`Leshan unreachable: ${this.cut(answer)}`);
    if (answer.kind !== 'answer') throw new Error(`Leshan: GET /api/clients: ${this.cut(answer)}`);
    const { status, text } = answer;
    if (status !== 200) throw new Error(`Leshan: GET /api/clients answered ${status}: ${text.slice(0, 200)}`);
    if (jsonNestingExceeds(text, MAX_LESHAN_JSON_DEPTH)) {
      throw new Error(`Leshan: GET /api/clients answered JSON nested deeper than ${MAX_LESHAN_JSON_DEPTH} levels`);
    }
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      throw new Error('Leshan: GET /api/clients did not answer JSON');
    }
    if (!Array.isArray(list)) throw new Error('Leshan: GET /api/clients did not answer a JSON array');
    return list;
  }

  /**
   * `GET /api/clients/{ep}`: whether Leshan has `ep` registered (200), or not (400 "no registered client", 404).
   * @throws when Leshan cannot be asked or answers anything else.
   */
  async isRegistered(ep: string): Promise<boolean> {
    const answer = await this.exchange('GET', `${this.basePath}/api/clients/${encodeEndpoint(ep)}`, {}, null);
    if (answer.kind === 'error' || answer.kind === 'aborted') throw new Error(`Leshan unreachable: ${this.cut(answer)}`);
    if (answer.kind !== 'answer') throw new Error(`Leshan: GET /api/clients/{ep}: ${this.cut(answer)}`);
    if (answer.status === 200) return true;
    if (answer.status === 400 || answer.status === 404) return false;
    throw new Error(`Leshan: GET /api/clients/{ep} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  }

  /** Waits for requests in flight, then closes every connection. */
  async close(): Promise<void> {
    if (!this.pool.closed && !this.pool.destroyed) await this.pool.close();
  }

  /**
   * Ends every request in flight at once (each resolves as cut off by the daemon, see the file comment) and
   * closes every connection; later sends are `unreachable`. For shutdown: close() would wait for a hanging
   * Leshan up to the deadline. Idempotent.
   */
  async abort(): Promise<void> {
    this.aborted = true;
    for (const ac of this.inFlight) ac.abort();
    if (!this.pool.destroyed) await this.pool.destroy(new Error('Leshan client aborted: the daemon is stopping')).catch(() => undefined);
  }

  /** What happened to an exchange without an answer, in words. */
  private cut(x: Exclude<Exchange, { kind: 'answer' }>): string {
    const http = x.status > 0 ? `HTTP ${x.status}, ` : '';
    switch (x.kind) {
      case 'deadline':
        return `${http}no complete answer within ${this.deadlineMs / 1000} s`;
      case 'tooLarge':
        return `${http}answer larger than ${this.maxBytes} bytes (maxResponseBytes)`;
      case 'aborted':
        return `${http}request aborted: the daemon is stopping`;
      case 'error':
        return errorText(x.error);
    }
  }

  /** One request under the overall deadline, its body read up to maxResponseBytes. Never throws. */
  private async exchange(
    method: Dispatcher.HttpMethod,
    path: string,
    headers: Record<string, string>,
    body: string | null,
  ): Promise<Exchange> {
    // nothing sent: like a destroyed pool, safe to repeat (also for an execute)
    if (this.aborted)
      return {
        kind: 'error',
        status: 0,
        error: Object.assign(new Error('Leshan client aborted: the daemon is stopping'), { code: 'UND_ERR_DESTROYED' }),
      };
    const ac = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      ac.abort();
    }, this.deadlineMs);
    this.inFlight.add(ac);
    let status = 0;
    try {
      const res = await this.pool.request({ method, path, headers, body, signal: ac.signal });
      status = res.statusCode;
      // an abort destroys the body with an error; without a listener that error would be uncaught
      res.body.on('error', () => undefined);
      const declared = Number(headerValue(res.headers['content-length']));
      if (declared > this.maxBytes) {
        res.body.destroy();
        return { kind: 'tooLarge', status, bytes: declared };
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > this.maxBytes) {
          res.body.destroy();
          return { kind: 'tooLarge', status, bytes };
        }
        chunks.push(chunk);
      }
      // a deadline that fired as the last chunk arrived still cuts the answer: it was not complete in time
      if (expired) return { kind: 'deadline', status };
      return {
        kind: 'answer',
        status,
        contentType: headerValue(res.headers['content-type']),
        text: Buffer.concat(chunks, bytes).toString('utf8'),
      };
    } catch (e) {
      if (expired) return { kind: 'deadline', status };
      if (this.aborted) return { kind: 'aborted', status };
      return { kind: 'error', status, error: e };
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(ac);
    }
  }

  private done(op: RequestSpec, method: string | undefined, attempt: AttemptResult, t0: number): SendResult {
    const ms = Math.round(performance.now() - t0);
    if (this.log) {
      const outcome = attempt.kind === 'notDelivered' ? attempt.reason : attempt.kind;
      const fields = { ep: op.ep, id: op.id, kind: op.kind, path: op.path, method, outcome, ms };
      if (attempt.kind === 'notDelivered' && attempt.reason === 'other') {
        this.log.warn({ ...fields, detail: attempt.message }, 'unexpected answer from Leshan');
      } else {
        this.log.debug(fields, 'leshan attempt');
      }
    }
    return { attempt, ms };
  }
}

/** How one request ended: a complete answer, or why there is none. `status` is 0 before the headers came. */
type Exchange =
  | { kind: 'answer'; status: number; contentType: string | undefined; text: string }
  /** no complete answer within the deadline */
  | { kind: 'deadline'; status: number }
  /** the body was longer than maxResponseBytes (`bytes` read or declared) */
  | { kind: 'tooLarge'; status: number; bytes: number }
  /** ended by abort() */
  | { kind: 'aborted'; status: number }
  /** connection or protocol error */
  | { kind: 'error'; status: number; error: unknown };

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8080`; Node's happy-eyeballs AggregateError has an empty message. */
/** Errors of the connect phase: nothing was sent, so repeating the request is safe. */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

function beforeSending(e: unknown): boolean {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.every(beforeSending);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && CONNECT_ERRORS.has(code);
}

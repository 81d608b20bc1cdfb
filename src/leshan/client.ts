/*
 * The daemon's client of Leshan's demo REST API: one keep-alive undici Pool, one request per operation attempt.
 * Leshan holds each call open until the device answers or its own `?timeout=` expires (then 504), so undici's
 * timeouts are set longer than that: Leshan always answers first, and an undici timeout means Leshan is stuck.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { LogSink } from '../log/logger.js';
import type { Operation } from '../operations/operation.js';
import { buildRequest } from './requests.js';
import { classifyResponse, type AttemptResult } from './responses.js';

/** The part of a pino logger the client uses. */
export type LeshanClientLog = Pick<LogSink, 'debug' | 'warn'>;

export interface LeshanClientOptions {
  /** Leshan's base URL, e.g. `http://127.0.0.1:8080` (a path prefix such as `/leshan` behind a proxy is kept). */
  url: string;
  /** The `?timeout=` sent with every operation, in whole seconds: how long Leshan waits for the device. */
  requestTimeoutS: number;
  /** Most connections kept open to Leshan. */
  connections: number;
  log?: LeshanClientLog;
  /** How much longer than `requestTimeoutS` undici waits for Leshan's answer (default 10 s). */
  timeoutMarginS?: number;
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
  private readonly log: LeshanClientLog | undefined;

  /** @throws Error on a malformed URL or out-of-range numbers (configuration errors). */
  constructor(options: LeshanClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`leshan url must be http(s): ${options.url}`);
    if (!Number.isSafeInteger(options.requestTimeoutS) || options.requestTimeoutS < 1) {
      throw new Error(`requestTimeoutS must be a whole number of seconds >= 1, got ${options.requestTimeoutS}`);
    }
    if (!Number.isSafeInteger(options.connections) || options.connections < 1) {
      throw new Error(`connections must be an integer >= 1, got ${options.connections}`);
    }
    const marginS = options.timeoutMarginS ?? 10;
    if (!(marginS > 0)) throw new Error(`timeoutMarginS must be > 0, got ${marginS}`);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutS = options.requestTimeoutS;
    this.log = options.log;
    const waitMs = Math.round((options.requestTimeoutS + marginS) * 1000);
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      headersTimeout: waitMs,
      bodyTimeout: waitMs,
      connectTimeout: Math.min(waitMs, 5000),
    });
  }

  /** Sends one operation and classifies Leshan's answer. Never throws. */
  async send(op: Operation): Promise<SendResult> {
    const t0 = performance.now();
    let attempt: AttemptResult;
    let req;
    try {
      req = buildRequest(op, this.timeoutS);
    } catch (e) {
      // Leshan would refuse it anyway: count it as an attempt Leshan rejected, never retry forever.
      attempt = { kind: 'notDelivered', reason: 'invalidRequest', httpStatus: 0, message: `not sent: ${errorText(e)}` };
      return this.done(op, undefined, attempt, t0);
    }
    try {
      const res = await this.pool.request({
        method: req.method,
        path: this.basePath + req.path,
        headers: req.headers,
        body: req.body ?? null,
      });
      const text = await res.body.text();
      attempt = classifyResponse(res.statusCode, headerValue(res.headers['content-type']), text, this.timeoutS);
    } catch (e) {
      attempt =
        op.kind === 'execute' && !beforeSending(e)
          ? { kind: 'notDelivered', reason: 'unknownOutcome', httpStatus: 0, message: `connection to Leshan lost after the execute was sent (${errorText(e)}): the device may have run it` }
          : { kind: 'unreachable', message: `Leshan unreachable: ${errorText(e)}` };
    }
    return this.done(op, req.method, attempt, t0);
  }

  /** `GET /api/clients`: Leshan's registrations (§6 of the reference), as parsed JSON. */
  async listClients(): Promise<unknown[]> {
    let status: number;
    let text: string;
    try {
      const res = await this.pool.request({ method: 'GET', path: `${this.basePath}/api/clients` });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      throw new Error(`Leshan unreachable: ${errorText(e)}`);
    }
    if (status !== 200) throw new Error(`Leshan: GET /api/clients answered ${status}: ${text.slice(0, 200)}`);
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      throw new Error('Leshan: GET /api/clients did not answer JSON');
    }
    if (!Array.isArray(list)) throw new Error('Leshan: GET /api/clients did not answer a JSON array');
    return list;
  }

  /** Waits for requests in flight, then closes every connection. */
  async close(): Promise<void> {
    if (!this.pool.closed) await this.pool.close();
  }

  private done(op: Operation, method: string | undefined, attempt: AttemptResult, t0: number): SendResult {
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

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8080`; Node's happy-eyeballs AggregateError has an empty message. */
/** Errors of the connect phase: nothing was sent, so repeating the request is safe. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

function beforeSending(e: unknown): boolean {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.every(beforeSending);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && CONNECT_ERRORS.has(code);
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let message = e.message;
  if (message === '' && e instanceof AggregateError) {
    message = e.errors.map((x: unknown) => (x instanceof Error ? x.message : String(x))).join('; ');
  }
  const code = (e as NodeJS.ErrnoException).code;
  return code && !message.includes(code) ? `${message} (${code})` : message || e.name;
}

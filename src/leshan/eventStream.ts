/*
 * Follows Leshan's event stream (`GET {url}/api/event`, docs/leshan-rest-api.md §5.3) for as long as it runs.
 *
 * Leshan's EventServlet is Jetty's EventSourceServlet: it needs `Accept: text/event-stream`, answers with
 * `Connection: close`, frames events as `event: NAME\r\ndata: <json>\r\n\r\n`, writes a `\r\n` heartbeat every
 * 10 s, and has no Last-Event-ID: events sent while no stream is open are lost. So after every (re)connection the
 * owner is told (`onConnected`) and reconciles with `GET /api/clients`.
 *
 * Reconnection: exponential backoff with full jitter (delay = random() × min(maxMs, minMs × 2^attempt)), reset
 * only after a connection that proved healthy: it delivered at least one complete line (a heartbeat or an event
 * line) and did not end by breaking the protocol. Bytes alone prove nothing (a server writing one endless line
 * would otherwise be reconnected to at the shortest delay for ever). A stream without a complete line for
 * `heartbeatTimeoutMs` (no event, no heartbeat) is taken for dead, aborted and reconnected; the connection and
 * the response headers must come within `connectTimeoutMs`. The stream itself has no overall deadline.
 *
 * Bounds against a broken or hostile server: at most `maxLineBytes` without a line end, and an event's data
 * at most as many characters; past either the stream is taken as broken and reconnected with growing backoff.
 * Events with an endpoint name the daemon cannot store, or data nested too deep, are refused by
 * parseLeshanEvent: counted (`parseErrors`, and `onInvalid`), logged with the name cut short, not used.
 *
 * Logging stays bounded during a long outage: one warn when a stream is lost, one warn for the first failed
 * attempt of an outage, debug for the following ones, one info when a stream is open again. Malformed events and
 * failing callbacks warn at most once a minute per event name (debug in between, counted in the getters).
 */
import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Agent, request } from 'undici';
import type { LogSink } from '../log/logger.js';
import { parseLeshanEvent, type LeshanEvent } from './events.js';
import { errorFields, errorText } from '../log/errorText.js';
import { leshanBase } from './baseUrl.js';
import { LogThrottle } from '../log/throttle.js';

export interface LeshanEventStreamOptions {
  /** Leshan's base URL, e.g. `http://127.0.0.1:8080` (a path prefix such as `/leshan` is kept). */
  url: string;
  /** Called synchronously, in stream order, for each parsed event. A throw or a rejected promise is logged. */
  onEvent(event: LeshanEvent): void | Promise<unknown>;
  /** Called after each (re)connection (200 with an event-stream body), before its first event. */
  onConnected?(): void | Promise<unknown>;
  /** Called when an open stream is lost (or closed by `stop()`, reason "stopped"). Not called for failed attempts. */
  onDisconnected?(reason: string): void | Promise<unknown>;
  log?: LogSink;
  /** Silence after which a stream is dead (default 35 000 ms: three missed 10 s heartbeats plus slack). */
  heartbeatTimeoutMs?: number;
  /** Reconnection backoff (default { minMs: 500, maxMs: 30 000 }). */
  backoff?: { minMs: number; maxMs: number };
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** Deadline for the connection and the response headers (default 15 000 ms, the REST requests' deadline). */
  connectTimeoutMs?: number;
  /** Most bytes without a line end, and most characters of one event's data (default 1 MiB: `leshan.maxResponseBytes`). */
  maxLineBytes?: number;
  /** Called for each known event refused (malformed data, invalid endpoint name, too deep), with the reason. */
  onInvalid?(reason: string): void;
}

interface AttemptEnd {
  /** The server answered 200 with an event-stream body. */
  opened: boolean;
  /** It proved healthy: at least one complete line (a heartbeat is enough) and no protocol breach at the end. */
  healthy: boolean;
  reason: string;
}

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
/** At most one warn per key in this window; debug in between. */
const WARN_EVERY_MS = 60_000;

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class LeshanEventStream {
  private readonly eventUrl: string;
  private readonly heartbeatTimeoutMs: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private readonly connectTimeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly log: LogSink | undefined;

  private running = false;
  private loop: Promise<void> | undefined;
  private current: AbortController | undefined;
  private cancelSleep: (() => void) | undefined;

  private isConnected = false;
  private connectCount = 0;
  private reconnectCount = 0;
  private eventCount = 0;
  private parseErrorCount = 0;
  private invalidEndpointCount = 0;
  private callbackErrorCount = 0;
  private lastEvent: number | undefined;
  private gapTotalMs = 0;
  private gapStart: number | undefined;
  private readonly warnings = new LogThrottle(WARN_EVERY_MS);

  /** @throws Error on a malformed URL or out-of-range numbers (configuration errors). */
  constructor(private readonly options: LeshanEventStreamOptions) {
    const { origin, basePath } = leshanBase(options.url);
    this.eventUrl = `${origin}${basePath}/api/event`;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 35_000;
    if (!(this.heartbeatTimeoutMs > 0)) throw new Error(`heartbeatTimeoutMs must be > 0, got ${this.heartbeatTimeoutMs}`);
    this.minMs = options.backoff?.minMs ?? 500;
    this.maxMs = options.backoff?.maxMs ?? 30_000;
    if (!(this.minMs > 0) || !(this.maxMs >= this.minMs)) {
      throw new Error(`backoff needs 0 < minMs <= maxMs, got ${this.minMs}/${this.maxMs}`);
    }
    this.random = options.random ?? Math.random;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    if (!(this.connectTimeoutMs > 0)) throw new Error(`connectTimeoutMs must be > 0, got ${this.connectTimeoutMs}`);
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(this.maxLineBytes) || this.maxLineBytes < 1)
      throw new Error(`maxLineBytes must be an integer >= 1, got ${this.maxLineBytes}`);
    this.log = options.log;
  }

  /** Successful connections (200 + event-stream) since construction. */
  get connects(): number {
    return this.connectCount;
  }

  /** Successful connections after the first one. */
  get reconnects(): number {
    return this.reconnectCount;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Typed events handed to onEvent. */
  get events(): number {
    return this.eventCount;
  }

  /** Known events refused (malformed data, invalid endpoint name, nested too deep): ignored. */
  get parseErrors(): number {
    return this.parseErrorCount;
  }

  /** Of parseErrors, those refused for their endpoint name. */
  get invalidEndpoints(): number {
    return this.invalidEndpointCount;
  }

  /** onEvent / onConnected / onDisconnected calls that threw or rejected. */
  get callbackErrors(): number {
    return this.callbackErrorCount;
  }

  /** Date.now() of the last SSE event received (any name, heartbeats excluded); undefined before the first. */
  get lastEventAt(): number | undefined {
    return this.lastEvent;
  }

  /** Total ms without an open stream while started, the current gap included. */
  disconnectedMs(): number {
    return this.gapTotalMs + (this.gapStart === undefined ? 0 : performance.now() - this.gapStart);
  }

  /** Starts following the stream (no-op while already started). Never throws. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const previous = this.loop; // a stop() still closing the previous run
    const loop = (async () => {
      await previous;
      if (!this.running) return;
      this.gapStart = performance.now();
      await this.run();
    })().catch((e: unknown) => {
      this.log?.warn(errorFields(e, { stack: true }), 'Leshan event stream loop failed (bug)');
    });
    this.loop = loop;
    void loop.finally(() => {
      if (this.loop === loop) this.loop = undefined;
    });
  }

  /** Aborts the stream and stops reconnecting; resolves once the connection is closed. May be started again. */
  async stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.current?.abort(new Error('stopped'));
      this.cancelSleep?.();
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    const agent = new Agent();
    let attempt = 0;
    let failures = 0;
    let lostReason: string | undefined;
    try {
      while (this.running) {
        const end = await this.attempt(agent, failures, lostReason);
        if (end.opened) {
          failures = 0;
          lostReason = end.reason;
        }
        if (!this.running) break;
        if (end.healthy) attempt = 0;
        const cap = Math.min(this.maxMs, this.minMs * 2 ** Math.min(attempt, 52));
        attempt++;
        const r = Math.min(Math.max(this.random(), 0), 1);
        const retryInMs = Math.floor(r * cap);
        if (end.opened) {
          this.log?.warn({ url: this.eventUrl, reason: end.reason, retryInMs, backoffMs: cap }, 'Leshan event stream lost; reconnecting');
        } else {
          failures++;
          const obj = { url: this.eventUrl, reason: end.reason, failures, retryInMs, backoffMs: cap };
          if (failures === 1) {
            this.log?.warn(obj, 'cannot open Leshan event stream; retrying with backoff (further failures logged at debug)');
          } else {
            this.log?.debug(obj, 'cannot open Leshan event stream');
          }
        }
        await this.sleep(retryInMs);
      }
    } finally {
      if (this.gapStart !== undefined) this.gapTotalMs += performance.now() - this.gapStart;
      this.gapStart = undefined;
      await agent.destroy().catch(() => undefined);
      this.log?.debug({ url: this.eventUrl }, 'Leshan event stream stopped');
    }
  }

  /** Resolves after `ms`, or at once when stop() is called. */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.cancelSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.cancelSleep = done;
    });
  }

  /** One connection, from the request to the end of its body. Never throws. */
  private async attempt(agent: Agent, failuresBefore: number, lostReason: string | undefined): Promise<AttemptEnd> {
    const ac = new AbortController();
    this.current = ac;
    let timedOut: string | undefined;
    const arm = (ms: number, why: string): NodeJS.Timeout =>
      setTimeout(() => {
        timedOut = why;
        ac.abort(new Error(why));
      }, ms);
    // until the headers: the connect deadline (or the silence limit, when shorter)
    const connectMs = Math.min(this.connectTimeoutMs, this.heartbeatTimeoutMs);
    let watchdog = arm(connectMs, `no response headers within ${connectMs} ms`);
    const end: AttemptEnd = { opened: false, healthy: false, reason: '' };
    let openedAt = 0;
    let sawLine = false;
    let overflow = false; // the server broke the bounds: never a healthy end
    try {
      const res = await request(this.eventUrl, {
        method: 'GET',
        headers: { accept: 'text/event-stream' },
        signal: ac.signal,
        dispatcher: agent,
        // The watchdog above bounds both; undici's own defaults (300 s) would only hide a dead stream longer.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      clearTimeout(watchdog);
      watchdog = arm(this.heartbeatTimeoutMs, `no complete line (not even a heartbeat) for ${this.heartbeatTimeoutMs} ms`);
      // An abort destroys the body with an error; without a listener that error would be uncaught.
      res.body.on('error', () => undefined);
      const type = String(res.headers['content-type'] ?? '');
      if (res.statusCode !== 200 || !/^text\/event-stream\s*(;|$)/i.test(type)) {
        res.body.destroy();
        end.reason = res.statusCode !== 200 ? `HTTP ${res.statusCode}` : `content type "${type}" is not text/event-stream`;
        return end;
      }
      end.opened = true;
      openedAt = performance.now();
      this.opened(failuresBefore, lostReason);

      const parser = createParser({
        onEvent: (m) => this.dispatch(m),
        onError: (err) => {
          if (err.type === 'max-buffer-size-exceeded') overflow = true;
        },
        maxBufferSize: this.maxLineBytes,
      });
      const decoder = new TextDecoder('utf-8');
      let sinceLineEnd = 0; // bytes received since the last CR or LF
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const lastEnd = Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
        if (lastEnd >= 0) {
          // a complete line: the stream is alive (bytes of an unterminated line are not)
          watchdog.refresh();
          sawLine = true;
          sinceLineEnd = chunk.length - lastEnd - 1;
        } else {
          sinceLineEnd += chunk.length;
        }
        if (sinceLineEnd > this.maxLineBytes) {
          overflow = true;
          throw new Error(`more than ${this.maxLineBytes} bytes without a line end`);
        }
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (overflow) throw new Error(`an SSE event exceeded ${this.maxLineBytes} characters`);
      }
      end.reason = 'stream ended by the server';
      end.healthy = sawLine;
    } catch (e) {
      if (!this.running) end.reason = 'stopped';
      else if (timedOut !== undefined) end.reason = timedOut;
      else end.reason = errorText(e);
      // a stream that carried lines, lost without breaking the bounds (Leshan restarted, network cut)
      end.healthy = sawLine && !overflow;
      if (!ac.signal.aborted) ac.abort();
    } finally {
      clearTimeout(watchdog);
      if (this.current === ac) this.current = undefined;
    }
    if (end.opened) this.closed(end.reason, performance.now() - openedAt);
    return end;
  }

  private opened(failuresBefore: number, lostReason: string | undefined): void {
    const now = performance.now();
    const outageMs = this.gapStart === undefined ? 0 : now - this.gapStart;
    if (this.gapStart !== undefined) this.gapTotalMs += outageMs;
    this.gapStart = undefined;
    this.isConnected = true;
    if (this.connectCount > 0) this.reconnectCount++;
    this.connectCount++;
    this.log?.info(
      {
        url: this.eventUrl,
        connects: this.connectCount,
        outageMs: Math.round(outageMs),
        failedAttempts: failuresBefore,
        ...(lostReason ? { lostReason } : {}),
      },
      this.connectCount === 1 ? 'Leshan event stream connected' : 'Leshan event stream reconnected',
    );
    this.callback('onConnected', () => this.options.onConnected?.());
  }

  private closed(reason: string, connectedMs: number): void {
    this.isConnected = false;
    if (this.running) this.gapStart = performance.now();
    this.log?.debug({ url: this.eventUrl, reason, connectedMs: Math.round(connectedMs) }, 'Leshan event stream closed');
    this.callback('onDisconnected', () => this.options.onDisconnected?.(reason));
  }

  private dispatch(m: EventSourceMessage): void {
    if (!this.running) return; // stop() called from a callback: drop the rest of the chunk
    this.lastEvent = Date.now();
    const name = m.event ?? 'message';
    const parsed = parseLeshanEvent(name, m.data);
    if (parsed === undefined) return;
    if ('error' in parsed) {
      this.parseErrorCount++;
      if (parsed.badEndpoint !== undefined) {
        this.invalidEndpointCount++;
        this.warnThrottled(
          `name:${name}`,
          { event: name, error: parsed.error, ep: parsed.badEndpoint },
          'Leshan event with an invalid endpoint name ignored',
        );
      } else {
        this.warnThrottled(
          `parse:${name}`,
          { event: name, error: parsed.error, data: m.data.slice(0, 300) },
          'malformed Leshan event ignored',
        );
      }
      this.callback('onInvalid', () => this.options.onInvalid?.(parsed.badEndpoint !== undefined ? 'endpoint' : 'malformed'), name);
      return;
    }
    this.eventCount++;
    this.callback('onEvent', () => this.options.onEvent(parsed), parsed.type);
  }

  /** Runs a user callback; a throw or a rejection is counted and logged, never propagated. */
  private callback(name: string, fn: () => unknown, detail?: string): void {
    const failed = (e: unknown): void => {
      this.callbackErrorCount++;
      const key = `${name}:${detail ?? ''}`;
      this.warnThrottled(
        key,
        { callback: name, ...(detail ? { event: detail } : {}), err: errorText(e) },
        'Leshan event stream callback failed',
      );
    };
    try {
      const r = fn();
      if (isPromiseLike(r)) r.then(undefined, failed);
    } catch (e) {
      failed(e);
    }
  }

  private warnThrottled(key: string, obj: object, msg: string): void {
    const logged = this.warnings.take(key);
    if (!logged) return this.log?.debug(obj, msg);
    this.log?.warn({ ...obj, ...(logged.suppressed > 0 ? { suppressedSinceLastWarn: logged.suppressed } : {}) }, msg);
  }
}

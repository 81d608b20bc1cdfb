/**
 * Whether Leshan's REST API answers, for the operator: a `leshan` check in /health, a warning when Leshan
 * becomes unreachable and when it is back (transitions only, plus a reminder every REMIND_MS while it stays
 * away), and a hint for the commonest set-up mistake: a stock Leshan (which posts nothing) with
 * `leshan.ingress: "posts"`, seen as registered clients and no post at all for a while.
 *
 * It asks `GET /api/clients` every `upEveryMs` while Leshan answers and every `downEveryMs` while it does not.
 * Any HTTP answer means reachable; only a failed connection (or a timeout) means unreachable.
 */
import type { CheckResult } from '../http/healthRoutes.js';
import type { LogSink } from '../log/logger.js';
import { readGauge } from '../metrics/following.js';
import type { Registry } from 'prom-client';

const REMIND_MS = 5 * 60_000;
const HINT_EVERY_MS = 30 * 60_000;

export interface LeshanWatchOptions {
  /** Leshan's URL as it may be shown (no credentials). */
  url: string;
  /** `GET /api/clients`; throws an Error whose message starts with "Leshan unreachable" when nothing answered. */
  listClients(): Promise<unknown[]>;
  /** With `posts`, registered clients and no post for `quietMs` mean a Leshan that does not post. */
  ingress: 'posts' | 'events' | 'both';
  postsAccepted(): number;
  log: LogSink;
  /** Where `lwm2m_backend_leshan_up` goes (none without it). */
  metrics?: Registry;
  upEveryMs?: number;
  downEveryMs?: number;
  quietMs?: number;
  now?: () => number;
}

type State = 'unknown' | 'up' | 'down';

export class LeshanWatch {
  private state: State = 'unknown';
  private since: number;
  private error: string | undefined;
  private registered: number | undefined;
  private lastReminder = 0;
  private clientsSeenSince: number | undefined;
  private lastHint = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: LeshanWatchOptions) {
    this.now = options.now ?? Date.now;
    this.since = this.now();
    if (options.metrics) {
      readGauge(options.metrics, 'lwm2m_backend_leshan_up', "1 while Leshan's REST API answers (0: operations wait)", () =>
        this.state === 'down' ? 0 : 1,
      );
    }
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The `leshan` check: not ok (degraded: operations wait, posts are still taken) while Leshan does not answer. */
  check(): CheckResult {
    const up = this.state !== 'down';
    return {
      ok: up,
      degraded: !up,
      state: this.state,
      since: new Date(this.since).toISOString(),
      url: this.options.url,
      ...(this.registered !== undefined && { registeredClients: this.registered }),
      ...(this.error !== undefined && { error: this.error }),
    };
  }

  /** One probe; the next is scheduled by `start`'s loop. */
  async probe(): Promise<void> {
    let clients: unknown[] | undefined;
    try {
      clients = await this.options.listClients();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Leshan answered, just not as expected (an error status, an oversized list): it is there
      if (!message.startsWith('Leshan unreachable')) return this.reachable(undefined);
      return this.unreachable(message);
    }
    this.reachable(clients.length);
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    await this.probe();
    if (this.stopped) return;
    const { upEveryMs = 60_000, downEveryMs = 5000 } = this.options;
    this.timer = setTimeout(() => void this.loop(), this.state === 'down' ? downEveryMs : upEveryMs);
    this.timer.unref();
  }

  private reachable(registered: number | undefined): void {
    const now = this.now();
    if (this.state === 'down') {
      this.options.log.warn(
        { url: this.options.url, downForS: Math.round((now - this.since) / 1000) },
        'Leshan reachable again: queued operations go out at the next wake',
      );
    }
    if (this.state !== 'up') this.since = now;
    this.state = 'up';
    this.error = undefined;
    if (registered !== undefined) this.registered = registered;
    this.hintIfSilent(now);
  }

  private unreachable(message: string): void {
    const now = this.now();
    const { log, url } = this.options;
    if (this.state !== 'down') {
      this.since = now;
      this.lastReminder = now;
      log.warn({ url, error: message }, 'Leshan unreachable: operations stay QUEUED until it answers (leshan.url)');
    } else if (now - this.lastReminder >= REMIND_MS) {
      this.lastReminder = now;
      log.warn({ url, error: message, downForS: Math.round((now - this.since) / 1000) }, 'Leshan still unreachable');
    }
    this.state = 'down';
    this.error = message;
  }

  private hintIfSilent(now: number): void {
    const { ingress, postsAccepted, log, url, quietMs = 120_000 } = this.options;
    if (ingress !== 'posts' || postsAccepted() > 0 || !this.registered) {
      this.clientsSeenSince = undefined;
      return;
    }
    this.clientsSeenSince ??= now;
    if (now - this.clientsSeenSince < quietMs || now - this.lastHint < HINT_EVERY_MS) return;
    this.lastHint = now;
    log.warn(
      { url, registeredClients: this.registered, silentForS: Math.round((now - this.clientsSeenSince) / 1000) },
      'Leshan has registered clients but has posted nothing to /leshan_api: a stock Leshan does not post ' +
        '(only the seed design fork and this project Leshan server do). With a stock Leshan set leshan.ingress to "events"',
    );
  }
}

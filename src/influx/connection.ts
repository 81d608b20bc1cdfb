import type { LogSink } from '../log/logger.js';
import type { InfluxEndpoint } from './endpoint.js';
import { errorText } from '../log/errorText.js';

export type InfluxState = 'connecting' | 'up' | 'down';

export interface InfluxStatus {
  state: InfluxState;
  since: string;
  error?: string;
}

/** Reads a whole answer body as text (bounded: error bodies are short, and only a prefix is kept). */
async function readText(body: { text(): Promise<string> }): Promise<string> {
  const text = await body.text();
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}

/**
 * Keeps track of whether InfluxDB can be written to. On (re)connection it makes sure the target exists:
 * with 1.x it creates the database (idempotent), with 2.x it checks that the bucket exists. While down it
 * retries every `connectIntervalMs`; while up it pings at the same interval so that /health tells the
 * truth even when nothing is being written. The writer reports failures with `reportFailure`.
 */
export class InfluxConnection {
  private status: InfluxStatus = { state: 'connecting', since: new Date().toISOString() };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private probing: Promise<void> | undefined;
  private readonly listeners = new Set<(state: InfluxState) => void>();

  constructor(
    private readonly endpoint: InfluxEndpoint,
    private readonly log: LogSink,
  ) {}

  get state(): InfluxState {
    return this.status.state;
  }

  snapshot(): InfluxStatus {
    return { ...this.status };
  }

  /** Called with the new state on every change. */
  onChange(listener: (state: InfluxState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts probing in the background; never throws, never waits for InfluxDB. */
  start(): void {
    this.stopped = false;
    void this.probe();
  }

  /** Runs one probe now and waits for it (used at start-up and by tests). */
  probe(): Promise<void> {
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
      this.schedule();
    });
    return this.probing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.probing;
  }

  /**
   * Whether InfluxDB answers `GET /ping` now (204 from 1.x and 2.x) within `timeoutMs`; never throws. The
   * writer asks after a write failed without a readable answer: if InfluxDB answers, the batch is suspect,
   * not the connection. Changes no state.
   */
  async answersPing(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await this.endpoint.pool.request({
        method: 'GET',
        path: '/ping',
        headers: this.endpoint.headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  }

  /** A write failed for a reason that means InfluxDB is unreachable. */
  reportFailure(error: string): void {
    this.setState('down', error);
  }

  /** A write succeeded. */
  reportSuccess(): void {
    if (this.status.state !== 'up') this.setState('up');
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.probe(), this.endpoint.config.connectIntervalMs);
    this.timer.unref();
  }

  private async runProbe(): Promise<void> {
    const wasUp = this.status.state === 'up';
    try {
      await this.ping();
      if (!wasUp) await this.ensureTarget();
      this.setState('up');
    } catch (err) {
      this.setState('down', errorText(err));
    }
  }

  private async ping(): Promise<void> {
    const res = await this.endpoint.pool.request({ method: 'GET', path: '/ping', headers: this.endpoint.headers });
    const text = await readText(res.body);
    if (res.statusCode >= 300) throw new Error(`ping answered ${res.statusCode} ${text}`.trim());
  }

  private async ensureTarget(): Promise<void> {
    const { api, config, pool, headers } = this.endpoint;
    if (api === 'v1') {
      const q = `CREATE DATABASE "${config.database.replace(/["\\]/g, '\\$&')}"`;
      const res = await pool.request({
        method: 'POST',
        path: '/query',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ q }).toString(),
      });
      const text = await readText(res.body);
      if (res.statusCode !== 200 || text.includes('"error"')) {
        throw new Error(`creating database "${config.database}" failed: ${res.statusCode} ${text}`);
      }
      return;
    }
    const query = new URLSearchParams({ name: config.bucket });
    if (config.org !== '') query.set('org', config.org);
    const res = await pool.request({ method: 'GET', path: `/api/v2/buckets?${query}`, headers });
    const text = await readText(res.body);
    // InfluxDB 3 has no bucket API; its write endpoint creates the database on first write.
    if (res.statusCode === 404 && !text.includes('bucket')) return;
    if (res.statusCode === 401 || res.statusCode === 403) throw new Error(`InfluxDB rejected the token (${res.statusCode})`);
    if (res.statusCode !== 200) throw new Error(`checking bucket "${config.bucket}" failed: ${res.statusCode} ${text}`);
    const found = (JSON.parse(text) as { buckets?: { name?: string }[] }).buckets ?? [];
    if (!found.some((b) => b.name === config.bucket)) {
      throw new Error(`bucket "${config.bucket}" not found${config.org ? ` in org "${config.org}"` : ''}`);
    }
  }

  private setState(state: InfluxState, error?: string): void {
    const changed = state !== this.status.state;
    if (!changed && error === this.status.error) return;
    const previous = this.status;
    this.status = { state, since: changed ? new Date().toISOString() : this.status.since, ...(error ? { error } : {}) };
    if (!changed) return;
    const { url } = this.endpoint.config;
    if (state === 'up' && previous.state === 'down') {
      // at warn, like the outage it ends: `journalctl -p warning` shows both
      const downForS = Math.round((Date.now() - Date.parse(previous.since)) / 1000);
      this.log.warn({ url, api: this.endpoint.api, downForS }, 'InfluxDB reachable again: the spool is being written to it');
    } else if (state === 'up') {
      this.log.info({ url, api: this.endpoint.api }, 'InfluxDB connected');
    } else {
      this.log.warn({ url, error }, 'InfluxDB unreachable: points go to the spool on disk (dataDir/influx-spool) until it is back');
    }
    for (const listener of this.listeners) listener(state);
  }
}

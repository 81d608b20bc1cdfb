// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * EventServlet (§5.3): Jetty's EventSourceServlet framing on GET /api/event[?ep=X].
 * Streams are indexed by endpoint so an event costs O(listeners), not O(streams).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from './faults.js';

interface Stream {
  res: ServerResponse;
  ep: string | null;
  heartbeat: NodeJS.Timeout;
}

const CRLF = '\r\n';

/** `event: NAME\r\n` + one `data: line\r\n` per line + `\r\n` (Jetty EventSourceEmitter). */
export function sseFrame(event: string, data: string): string {
  let frame = `event: ${event}${CRLF}`;
  if (data !== '') {
    for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}${CRLF}`;
  }
  return frame + CRLF;
}

/** Jetty compares each Accept header line with equals("text/event-stream"). */
export function acceptsEventStream(req: IncomingMessage): boolean {
  const values = req.headersDistinct.accept ?? [];
  return values.some((v) => v === 'text/event-stream');
}

export class EventHub {
  private readonly unfiltered = new Set<Stream>();
  private readonly byEp = new Map<string, Set<Stream>>();
  /** Streams a StreamFault took (tests only). */
  private readonly faulty = new Set<ServerResponse>();
  private total = 0;

  constructor(
    private readonly heartbeatMs: number,
    private readonly faults?: Faults,
  ) {}

  get size(): number {
    return this.total + this.faulty.size;
  }

  /** True when an event for `ep` would reach at least one stream (lets callers skip building JSON). */
  listening(ep: string): boolean {
    return this.unfiltered.size > 0 || this.byEp.has(ep);
  }

  open(res: ServerResponse, ep: string | null): void {
    if (this.faults?.openStream(res)) {
      this.faulty.add(res);
      res.on('close', () => this.faulty.delete(res));
      return;
    }
    // Jetty sets Connection: close and never chunks: the body runs until the connection closes.
    res.removeHeader('Transfer-Encoding');
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=UTF-8', Connection: 'close' });
    res.flushHeaders();
    const heartbeat = setInterval(() => {
      if (!res.destroyed) res.write(CRLF);
    }, this.heartbeatMs);
    heartbeat.unref();
    const stream: Stream = { res, ep, heartbeat };
    if (ep === null) {
      this.unfiltered.add(stream);
    } else {
      let set = this.byEp.get(ep);
      if (!set) this.byEp.set(ep, (set = new Set()));
      set.add(stream);
    }
    this.total++;
    res.on('close', () => this.remove(stream));
  }

  private remove(stream: Stream): void {
    clearInterval(stream.heartbeat);
    let removed: boolean;
    if (stream.ep === null) {
      removed = this.unfiltered.delete(stream);
    } else {
      const set = this.byEp.get(stream.ep);
      removed = set?.delete(stream) ?? false;
      if (set && set.size === 0) this.byEp.delete(stream.ep);
    }
    if (removed) this.total--;
  }

  /** Send to streams without ep and to those for `ep`; with `ep` undefined, to every stream. */
  send(event: string, data: string, ep: string | undefined): void {
    if (this.total === 0) return;
    const frame = sseFrame(event, data);
    for (const s of this.unfiltered) s.res.write(frame);
    if (ep === undefined) {
      for (const set of this.byEp.values()) for (const s of set) s.res.write(frame);
    } else {
      const set = this.byEp.get(ep);
      if (set) for (const s of set) s.res.write(frame);
    }
  }

  /** Writes `text` as is to every (non-faulty) stream (tests of hostile framing). */
  sendRaw(text: string): void {
    for (const s of [...this.unfiltered, ...[...this.byEp.values()].flatMap((set) => [...set])]) s.res.write(text);
  }

  closeAll(): void {
    for (const res of this.faulty) res.destroy();
    this.faulty.clear();
    for (const s of [...this.unfiltered, ...[...this.byEp.values()].flatMap((set) => [...set])]) {
      this.remove(s);
      s.res.destroy();
    }
  }
}

/**
 * A raw reader of Leshan's event stream (`GET /api/event`, CRLF-framed server-sent events), for the double's tests
 * and for comparing the double with a real Leshan: it keeps the exact bytes and the parsed events.
 */
import http from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
}

export interface Sse {
  res: http.IncomingMessage;
  raw: string;
  events: SseEvent[];
  waitFor(event: string, pred?: (data: Record<string, unknown>) => boolean, ms?: number): Promise<SseEvent>;
  names(): string[];
  close(): void;
}

export function openSse(baseUrl: string, query = '', headers: http.OutgoingHttpHeaders = { accept: 'text/event-stream' }): Promise<Sse> {
  return new Promise<Sse>((resolve, reject) => {
    const req = http.get(`${baseUrl}/api/event${query}`, { headers, agent: false }, (res) => {
      const waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
      let buf = '';
      let pending: { event: string; data: string[] } | null = null;
      const s: Sse = {
        res,
        raw: '',
        events: [],
        names: () => s.events.map((e) => e.event),
        waitFor(event, pred = () => true, ms = 2000) {
          const match = (e: SseEvent): boolean => e.event === event && pred(JSON.parse(e.data));
          const found = s.events.find(match);
          if (found) return Promise.resolve(found);
          return new Promise((ok, ko) => {
            const t = setTimeout(() => ko(new Error(`no ${event} event within ${ms} ms: ${s.names().join(',')}`)), ms);
            waiters.push({ match, resolve: (e) => (clearTimeout(t), ok(e)) });
          });
        },
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        s.raw += chunk;
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (line === '') {
            if (!pending) continue; // heartbeat
            const e = { event: pending.event, data: pending.data.join('\n') };
            pending = null;
            s.events.push(e);
            for (const w of [...waiters]) {
              if (w.match(e)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(e);
              }
            }
          } else {
            pending ??= { event: '', data: [] };
            if (line.startsWith('event: ')) pending.event = line.slice(7);
            else if (line.startsWith('data: ')) pending.data.push(line.slice(6));
          }
        }
      });
      resolve(s);
    });
    req.on('error', reject);
  });
}

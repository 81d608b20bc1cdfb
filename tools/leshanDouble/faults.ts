/**
 * Faults a test may ask of the double (types.ts: LeshanFault, StreamFault): how a stuck, dripping or hostile
 * Leshan answers. Never used unless asked for.
 */
import type { ServerResponse } from 'node:http';
import type { HttpAnswer } from './http.js';
import type { FaultOptions, LeshanFault, StreamFault } from './types.js';

interface Armed {
  fault: LeshanFault;
  match: NonNullable<FaultOptions['match']>;
  remaining: number;
}

const CHUNK = 64 * 1024;

export class Faults {
  private armed: Armed[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  stream: StreamFault | undefined;
  /** Bytes written by `huge` answers. */
  hugeBytes = 0;

  add(fault: LeshanFault, options: FaultOptions = {}): void {
    this.armed.push({ fault, match: options.match ?? (() => true), remaining: options.times ?? Infinity });
  }

  clear(): void {
    this.armed = [];
  }

  /** The fault for this request (consumes one of its `times`), or undefined. */
  take(req: { method: string; url: string; path: string }): LeshanFault | undefined {
    const a = this.armed.find((x) => x.remaining > 0 && x.match(req));
    if (!a) return undefined;
    a.remaining--;
    return a.fault;
  }

  /** Writes `answer` the way `fault` says. */
  write(res: ServerResponse, answer: HttpAnswer, fault: LeshanFault): void {
    switch (fault.kind) {
      case 'hang':
        return; // the socket stays open until the client gives up or the double closes
      case 'raw': {
        const body = Buffer.from(fault.body, 'utf8');
        res.writeHead(fault.status ?? 200, { 'Content-Type': fault.contentType ?? 'application/json', 'Content-Length': body.length });
        res.end(body);
        return;
      }
      case 'drip': {
        const body = Buffer.from(answer.body, 'utf8');
        const headers: Record<string, string | number> = { ...answer.headers, 'Content-Length': body.length };
        if (answer.contentType) headers['Content-Type'] = answer.contentType;
        res.writeHead(answer.status, headers);
        res.flushHeaders();
        let i = 0;
        const timer = setInterval(() => {
          if (res.destroyed || i >= body.length) {
            this.stop(timer);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body.subarray(i, ++i));
        }, fault.everyMs);
        this.timers.add(timer);
        res.on('close', () => this.stop(timer));
        return;
      }
      case 'huge':
        void this.huge(res, fault);
        return;
    }
  }

  /** An event stream opened while `stream` is set: headers, then the fault (true when it took the stream). */
  openStream(res: ServerResponse): boolean {
    const f = this.stream;
    if (!f) return false;
    res.removeHeader('Transfer-Encoding');
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=UTF-8', Connection: 'close' });
    res.flushHeaders();
    const chunk = Buffer.alloc(f.chunkBytes, 'x');
    const timer = setInterval(() => {
      if (res.destroyed) this.stop(timer);
      else res.write(chunk);
    }, f.everyMs);
    this.timers.add(timer);
    res.on('close', () => this.stop(timer));
    return true;
  }

  dispose(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    this.armed = [];
    this.stream = undefined;
  }

  private stop(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.timers.delete(timer);
  }

  /** A valid read response of exactly `bytes` bytes, produced while it is written. */
  private async huge(res: ServerResponse, fault: Extract<LeshanFault, { kind: 'huge' }>): Promise<void> {
    const head = Buffer.from(
      '{"status":"CONTENT(205)","valid":true,"success":true,"failure":false,"content":{"id":0,"kind":"singleResource","type":"STRING","value":"',
    );
    const tail = Buffer.from('"}}');
    const fill = Math.max(0, fault.bytes - head.length - tail.length);
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (!fault.chunked) headers['Content-Length'] = head.length + fill + tail.length;
    res.writeHead(200, headers);
    const filler = Buffer.alloc(CHUNK, 'x');
    const send = async (b: Buffer): Promise<boolean> => {
      if (res.destroyed) return false;
      this.hugeBytes += b.length;
      if (!res.write(b)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      return !res.destroyed;
    };
    if (!(await send(head))) return;
    for (let left = fill; left > 0; left -= CHUNK) {
      if (!(await send(left >= CHUNK ? filler : filler.subarray(0, left)))) return;
    }
    if (await send(tail)) res.end();
  }
}

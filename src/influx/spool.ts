import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

interface Segment {
  seq: number;
  file: string;
  bytes: number;
  lines: number;
}

/** A batch read from the spool; `ack()` marks its lines as written so they are never replayed. */
export interface SpoolBatch {
  lines: string[];
  ack(): Promise<void>;
}

const SUFFIX = '.lp';
const countLines = (text: string): number => {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * A size-capped, ordered, on-disk queue of line-protocol lines: where points wait while InfluxDB is
 * unreachable, and across a restart. Files `<seq>.lp` of at most `segmentBytes` each; lines are appended
 * to the newest and read from the oldest, which is deleted once every line in it is acknowledged.
 * Each append is fsync'd before it resolves. A crash can leave a torn last line: lines without their
 * newline are ignored. Past `maxBytes`, whole oldest segments are dropped and their lines counted.
 * Replaying a segment twice (crash between a write and its ack) is harmless: every point carries its own
 * timestamp, so InfluxDB overwrites it with itself.
 */
export class Spool {
  private segments: Segment[] = [];
  private tail: { segment: Segment; handle: FileHandle } | undefined;
  private reading: { segment: Segment; lines: string[]; next: number; acked: number } | undefined;
  private nextSeq = 1;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly segmentBytes = 2 * 1024 * 1024,
  ) {}

  /** Called with the number of lines dropped when the cap is reached (the writer counts them). */
  onDrop: (lines: number) => void = () => {};

  /** Finds the segments a previous run left. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => n.endsWith(SUFFIX));
    const found: Segment[] = [];
    for (const name of names) {
      const seq = Number(name.slice(0, -SUFFIX.length));
      if (!Number.isSafeInteger(seq)) continue;
      const file = path.join(this.dir, name);
      const text = await readFile(file, 'utf8');
      found.push({ seq, file, bytes: (await stat(file)).size, lines: countLines(text) });
    }
    found.sort((a, b) => a.seq - b.seq);
    this.segments = found;
    this.nextSeq = (found.at(-1)?.seq ?? 0) + 1;
  }

  /** Lines waiting in the spool (not yet acknowledged). */
  get lines(): number {
    let n = 0;
    for (const s of this.segments) n += s.lines;
    return n - (this.reading?.acked ?? 0);
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  get empty(): boolean {
    return this.lines === 0;
  }

  /** Appends lines in order; resolves once they are on disk. */
  append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.serial(async () => {
      const text = `${lines.join('\n')}\n`;
      const bytes = Buffer.byteLength(text);
      if (!this.tail || this.tail.segment.bytes + bytes > this.segmentBytes) await this.rotate();
      const tail = this.tail!;
      await tail.handle.appendFile(text);
      await tail.handle.datasync();
      tail.segment.bytes += bytes;
      tail.segment.lines += lines.length;
      await this.enforceCap();
    });
  }

  /** The oldest unread lines, at most `max`; undefined when nothing is waiting. */
  read(max: number): Promise<SpoolBatch | undefined> {
    return this.serial(async () => {
      if (!this.reading || this.reading.next >= this.reading.lines.length) {
        const head = this.segments[0];
        if (!head || (this.reading && this.reading.segment === head)) return undefined;
        if (this.tail?.segment === head) await this.closeTail();
        const text = await readFile(head.file, 'utf8');
        const end = text.lastIndexOf('\n');
        const lines = end < 0 ? [] : text.slice(0, end).split('\n');
        head.lines = lines.length; // a torn last line does not count
        this.reading = { segment: head, lines, next: 0, acked: 0 };
        if (lines.length === 0) {
          await this.finishHead();
          return undefined;
        }
      }
      const reading = this.reading;
      const batch = reading.lines.slice(reading.next, reading.next + max);
      reading.next += batch.length;
      return {
        lines: batch,
        ack: () =>
          this.serial(async () => {
            if (this.reading !== reading) return; // dropped by the cap meanwhile
            reading.acked += batch.length;
            if (reading.acked >= reading.lines.length) await this.finishHead();
          }),
      };
    });
  }

  /** Rewinds the read position to the first unacknowledged line (after a failed send). */
  rewind(): void {
    if (this.reading) this.reading.next = this.reading.acked;
  }

  async close(): Promise<void> {
    await this.serial(() => this.closeTail());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async rotate(): Promise<void> {
    await this.closeTail();
    const seq = this.nextSeq++;
    const segment: Segment = { seq, file: path.join(this.dir, `${String(seq).padStart(12, '0')}${SUFFIX}`), bytes: 0, lines: 0 };
    const handle = await open(segment.file, 'a');
    this.segments.push(segment);
    this.tail = { segment, handle };
  }

  private async closeTail(): Promise<void> {
    const tail = this.tail;
    this.tail = undefined;
    await tail?.handle.close();
  }

  private async finishHead(): Promise<void> {
    const head = this.segments.shift();
    this.reading = undefined;
    if (head) await unlink(head.file).catch(() => undefined);
  }

  private async enforceCap(): Promise<void> {
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      const head = this.segments[0]!;
      const dropped = this.reading?.segment === head ? head.lines - this.reading.acked : head.lines;
      await this.finishHead();
      this.onDrop(dropped);
    }
  }
}

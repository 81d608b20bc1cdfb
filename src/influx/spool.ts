import { mkdir, open, readdir, readFile, rename, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { LogSink } from '../log/logger.js';
import { errorFields } from '../log/errorText.js';
import { decodeFrames, encodeFrames } from '../dataDir/frames.js';

interface Segment {
  seq: number;
  file: string;
  /** Bytes of whole records (a torn or damaged tail is cut off or set aside at open). */
  bytes: number;
  lines: number;
  /** A newline-separated `.lp` segment left by a version before the framed format: read, never appended to. */
  legacy: boolean;
}

/** A batch read from the spool; `ack()` marks its lines (or only the first `count`) as written so they are never replayed. */
export interface SpoolBatch {
  lines: string[];
  ack(count?: number): Promise<void>;
}

/** What the spool had to give up, reported to `onDrop` and counted. */
export interface SpoolDrop {
  /** `spool_full`: the oldest segment was dropped at the cap; `spool_damaged`: a segment ended in unreadable bytes. */
  reason: 'spool_full' | 'spool_damaged';
  /** Lines dropped (0 when unknown: damaged bytes cannot be counted in lines). */
  lines: number;
  bytes: number;
  file: string;
}

export interface SpoolOptions {
  dir: string;
  /** Size cap: past it the oldest segments are dropped (and counted). */
  maxBytes: number;
  /** Size of one segment file (a record larger than that gets a segment of its own). */
  segmentBytes?: number;
  log?: LogSink;
  /** Told about every drop; the totals are also kept (`droppedLines`, `damaged`). */
  onDrop?: (drop: SpoolDrop) => void;
}

const SUFFIX = '.spool';
const SEGMENT_NAME = /^(\d+)\.(spool|lp)$/;
/** What `decodeRecords` found: the lines of the whole records, where they end, and why reading stopped before the end. */
export interface Decoded {
  lines: string[];
  /** Bytes of whole, valid records from the start. */
  validBytes: number;
  /** `torn`: the last record is cut short (a crash or a failed write mid-append); `corrupt`: a record is not what was written. */
  damage?: 'torn' | 'corrupt';
}

export function decodeRecords(buf: Buffer): Decoded {
  const { frames, end, stop } = decodeFrames(buf);
  return { lines: frames.map((f) => f.text), validBytes: end, ...(stop && { damage: stop === 'short' ? 'torn' : 'corrupt' }) };
}

/** An old-format segment: lines ending in a newline; a torn last line (no newline) does not count. */
function decodeLegacy(buf: Buffer): string[] {
  const end = buf.lastIndexOf(0x0a);
  return end < 0 ? [] : buf.toString('utf8', 0, end).split('\n');
}

/**
 * A size-capped, ordered, on-disk queue of line-protocol lines: where points wait while InfluxDB is
 * unreachable, and across a restart. Files `<seq>.spool` of about `segmentBytes` each; records are appended
 * to the newest and read from the oldest, which is deleted once every line in it is acknowledged.
 *
 * Framing: one record per line, a `# <length> <CRC-32>` header line before it (src/dataDir/frames.ts), so a
 * value may hold newlines or any other character. Each append is fsync'd before it resolves.
 * - An append that failed half-way (disk full, I/O error) leaves a torn record: it is cut back (ftruncate)
 *   before the next append, or the next append goes to a new segment when that fails too.
 * - At open, every segment is checked: a torn last record (a crash mid-append; never acknowledged to the
 *   writer) is cut back; a record whose checksum is wrong (damage on disk, a file of random bytes) ends the
 *   readable part: the records before it are kept, the rest is moved to `<file>.<time>.bad`, counted and logged.
 * - `.lp` segments of the previous, newline-separated format are read as they always were, then deleted.
 * Past `maxBytes`, whole oldest segments are dropped and their lines counted. Replaying a segment twice
 * (crash between a write and its ack) is harmless: every point carries its own timestamp, so InfluxDB
 * overwrites it with itself.
 */
export class Spool {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly log: LogSink | undefined;
  private readonly onDrop: (drop: SpoolDrop) => void;
  private segments: Segment[] = [];
  /** The segment being appended to; `torn` while its file may hold bytes past `segment.bytes`. */
  private tail: { segment: Segment; handle: FileHandle; torn: boolean } | undefined;
  private reading: { segment: Segment; lines: string[]; next: number; acked: number } | undefined;
  private nextSeq = 1;
  private chain: Promise<unknown> = Promise.resolve();
  /** Lines dropped at the cap, since this spool was made. */
  droppedLines = 0;
  /** Lines of segments that could not be read at all (damaged bytes cannot be counted in lines). */
  damagedLines = 0;
  /** Torn tails cut back, and damaged segments or tails set aside, since this spool was made. */
  readonly damaged = { torn: 0, corrupt: 0 };
  /** Bytes appended to segments since this spool was made. */
  bytesWritten = 0;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = options.segmentBytes ?? 2 * 1024 * 1024;
    this.log = options.log;
    this.onDrop = options.onDrop ?? (() => {});
  }

  /** Finds the segments a previous run left, cutting back torn tails and setting damaged ones aside. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found: Segment[] = [];
    for (const name of await readdir(this.dir)) {
      const match = SEGMENT_NAME.exec(name);
      if (!match) continue;
      const file = path.join(this.dir, name);
      const buf = await readFile(file);
      const legacy = match[2] === 'lp';
      const segment: Segment = { seq: Number(match[1]), file, bytes: buf.length, lines: 0, legacy };
      if (legacy) segment.lines = decodeLegacy(buf).length;
      else {
        const decoded = decodeRecords(buf);
        segment.lines = decoded.lines.length;
        segment.bytes = decoded.validBytes;
        if (decoded.damage) await this.cutDamage(segment, buf, decoded);
      }
      if (segment.lines === 0 && segment.bytes === 0) await unlink(file).catch(() => undefined);
      else found.push(segment);
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

  /** Appends lines in order; resolves once they are on disk. On failure none of them is in the spool. */
  append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.serial(async () => {
      const records = encodeFrames(lines);
      if (!this.tail || (this.tail.segment.bytes > 0 && this.tail.segment.bytes + records.length > this.segmentBytes)) await this.rotate();
      let tail = this.tail!;
      if (tail.torn) {
        try {
          await tail.handle.truncate(tail.segment.bytes);
          tail.torn = false;
        } catch (err) {
          this.log?.warn(
            { ...errorFields(err), file: tail.segment.file },
            'could not cut back a torn spool record; starting a new segment',
          );
          await this.rotate();
          tail = this.tail!;
        }
      }
      tail.torn = true;
      try {
        await tail.handle.appendFile(records);
        await tail.handle.datasync();
      } catch (err) {
        // cut back now if the disk lets us; otherwise before the next append (or at the next start)
        await tail.handle.truncate(tail.segment.bytes).then(
          () => (tail.torn = false),
          () => undefined,
        );
        throw err;
      }
      tail.torn = false;
      this.bytesWritten += records.length;
      tail.segment.bytes += records.length;
      tail.segment.lines += lines.length;
      await this.enforceCap();
    });
  }

  /** The oldest unread lines, at most `max`; undefined when nothing is waiting. */
  read(max: number): Promise<SpoolBatch | undefined> {
    return this.serial(async () => {
      while (!this.reading || this.reading.next >= this.reading.lines.length) {
        const head = this.segments[0];
        if (!head || (this.reading && this.reading.segment === head)) return undefined;
        if (this.tail?.segment === head) await this.closeTail();
        const lines = await this.load(head);
        this.reading = { segment: head, lines, next: 0, acked: 0 };
        if (lines.length === 0) await this.finishHead();
      }
      const reading = this.reading;
      const start = reading.next;
      const batch = reading.lines.slice(start, start + max);
      reading.next += batch.length;
      return {
        lines: batch,
        ack: (count = batch.length) =>
          this.serial(async () => {
            if (this.reading !== reading) return; // dropped by the cap meanwhile
            reading.acked = Math.max(reading.acked, start + Math.min(count, batch.length));
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

  /** The lines of a segment about to be read. Only its known whole records are read; damage found now is set aside. */
  private async load(segment: Segment): Promise<string[]> {
    let buf: Buffer;
    try {
      buf = await readFile(segment.file);
    } catch (err) {
      const setAside = `${segment.file}.${Date.now()}.bad`;
      await rename(segment.file, setAside).catch(() => undefined);
      this.log?.error(
        { err: String(err), file: segment.file, setAside, lines: segment.lines },
        'could not read a spool segment; set it aside',
      );
      this.damaged.corrupt++;
      this.damagedLines += segment.lines;
      this.onDrop({ reason: 'spool_damaged', lines: segment.lines, bytes: segment.bytes, file: segment.file });
      return [];
    }
    if (segment.legacy) {
      const lines = decodeLegacy(buf);
      segment.lines = lines.length;
      return lines;
    }
    const decoded = decodeRecords(buf.subarray(0, segment.bytes));
    if (decoded.damage) {
      segment.bytes = decoded.validBytes;
      await this.cutDamage(segment, buf, decoded);
    }
    segment.lines = decoded.lines.length;
    return decoded.lines;
  }

  /** Cuts a segment back to its whole records; unreadable bytes other than a torn last record are kept in a `.bad` file. */
  private async cutDamage(segment: Segment, buf: Buffer, decoded: Decoded): Promise<void> {
    const rest = buf.subarray(decoded.validBytes);
    const kind = decoded.damage === 'corrupt' ? 'corrupt' : 'torn';
    this.damaged[kind]++;
    let setAside: string | undefined;
    if (kind === 'corrupt') {
      setAside = `${segment.file}.${Date.now()}.bad`;
      await writeFile(setAside, rest).catch(() => (setAside = undefined));
    }
    await truncate(segment.file, decoded.validBytes).catch(async () => {
      // cannot cut it (read-only?): keep the good records in a new file and drop the old one
      await writeFile(`${segment.file}.tmp`, buf.subarray(0, decoded.validBytes));
      await rename(`${segment.file}.tmp`, segment.file);
    });
    const info = {
      file: segment.file,
      keptLines: decoded.lines.length,
      keptBytes: decoded.validBytes,
      cutBytes: rest.length,
      ...(setAside ? { setAside } : {}),
    };
    if (kind === 'torn') this.log?.warn(info, 'spool segment ended in a torn record (a crash or failed write mid-append); cut it back');
    else this.log?.error(info, 'spool segment damaged (bad checksum); kept the records before the damage, set the rest aside');
    this.onDrop({ reason: 'spool_damaged', lines: 0, bytes: rest.length, file: segment.file });
  }

  private async rotate(): Promise<void> {
    await this.closeTail();
    const seq = this.nextSeq++;
    const segment: Segment = {
      seq,
      file: path.join(this.dir, `${String(seq).padStart(12, '0')}${SUFFIX}`),
      bytes: 0,
      lines: 0,
      legacy: false,
    };
    const handle = await open(segment.file, 'a');
    this.segments.push(segment);
    this.tail = { segment, handle, torn: false };
  }

  private async closeTail(): Promise<void> {
    const tail = this.tail;
    this.tail = undefined;
    if (!tail) return;
    if (tail.torn) await tail.handle.truncate(tail.segment.bytes).catch(() => undefined);
    await tail.handle.close();
  }

  private async finishHead(): Promise<void> {
    const head = this.segments.shift();
    this.reading = undefined;
    if (head) {
      if (this.tail?.segment === head) await this.closeTail();
      await unlink(head.file).catch(() => undefined);
    }
  }

  private async enforceCap(): Promise<void> {
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      const head = this.segments[0]!;
      const dropped = this.reading?.segment === head ? head.lines - this.reading.acked : head.lines;
      await this.finishHead();
      this.droppedLines += dropped;
      this.log?.warn({ dropped, total: this.droppedLines }, 'spool full: dropped the oldest points');
      this.onDrop({ reason: 'spool_full', lines: dropped, bytes: head.bytes, file: head.file });
    }
  }
}

import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { decodeFrames, validFrameAfter } from '../../dataDir/frames.js';

/**
 * The journal beside a store file: segments `<file>.journal-<gen>` (gen grows by one at each rotation),
 * each a run of framed records appended and fdatasync'd. A new segment's directory entry is fsync'd before
 * its first append counts. Appends are never concurrent (the GroupedWriter has one write in flight).
 *
 * A failed append leaves the segment: the next append goes to a new one, and the failed one is cut back to
 * its last whole group if the disk lets us (a start-up cuts a torn tail anyway).
 */
export class Journal {
  private active: Segment | undefined;
  private nextGen: number;
  /** Segments not yet folded into a snapshot, by gen (the active one included). */
  private readonly live = new Map<number, { bytes: number; records: number }>();
  /** Bytes appended (frames) since open. */
  bytesWritten = 0;

  constructor(
    readonly file: string,
    existing: readonly SegmentInfo[],
  ) {
    for (const s of existing) this.live.set(s.gen, { bytes: s.bytes, records: s.records });
    this.nextGen = Math.max(0, ...existing.map((s) => s.gen)) + 1;
  }

  /** Bytes in the segments not yet folded into a snapshot. */
  get bytes(): number {
    let n = 0;
    for (const s of this.live.values()) n += s.bytes;
    return n;
  }

  /** Records in the segments not yet folded into a snapshot. */
  get records(): number {
    let n = 0;
    for (const s of this.live.values()) n += s.records;
    return n;
  }

  get segments(): number {
    return this.live.size;
  }

  /** Appends the frames and waits for fdatasync (and, for a new segment, the directory fsync). */
  async append(frames: Buffer, count: number): Promise<void> {
    // the segment is taken before the first await: a seal() right after this call does not move this append
    const seg = (this.active ??= this.openSegment());
    const handle = await seg.handle;
    const good = seg.bytes;
    try {
      // a short write (the disk filling up) goes on with the rest: the next write then says why it cannot
      for (let done = 0; done < frames.length;) {
        const { bytesWritten } = await handle.write(frames, done, frames.length - done, good + done);
        if (bytesWritten === 0) throw new Error(`nothing written to ${seg.file}`);
        done += bytesWritten;
      }
      await handle.datasync();
    } catch (e) {
      if (this.active === seg) this.active = undefined; // the next append starts a new segment
      await handle.truncate(good).catch(() => undefined);
      void handle.close().catch(() => undefined);
      throw e;
    }
    seg.bytes += frames.length;
    const live = this.live.get(seg.gen)!;
    live.bytes = seg.bytes;
    live.records += count;
    this.bytesWritten += frames.length;
  }

  /**
   * Ends the active segment: appends from now on go to a new one. Returns the gen up to which segments may
   * be removed once a snapshot holding every record appended so far is on disk, and a function that
   * closes the sealed segment (call it once the append that may still be writing to it is done).
   */
  seal(): { gen: number; close: () => Promise<void> } {
    const seg = this.active;
    this.active = undefined;
    const close = async () => {
      if (seg) await (await seg.handle).close().catch(() => undefined);
    };
    return { gen: this.nextGen - 1, close: () => close().catch(() => undefined) };
  }

  /** Removes the segments up to `gen` (their records are in the snapshot now). */
  async removeUpTo(gen: number): Promise<void> {
    for (const g of [...this.live.keys()].sort((a, b) => a - b)) {
      if (g > gen) break;
      await unlink(segmentFile(this.file, g)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      this.live.delete(g);
    }
  }

  async close(): Promise<void> {
    const seg = this.active;
    this.active = undefined;
    if (seg) await (await seg.handle).close().catch(() => undefined);
  }

  private openSegment(): Segment {
    const gen = this.nextGen++;
    const file = segmentFile(this.file, gen);
    this.live.set(gen, { bytes: 0, records: 0 });
    const handle = (async () => {
      const h = await open(file, 'w');
      try {
        await syncDir(path.dirname(file));
      } catch (e) {
        await h.close();
        throw e;
      }
      return h;
    })();
    const seg: Segment = { gen, file, bytes: 0, handle };
    // a segment that could not be opened is dropped: the append fails, the next one opens another
    handle.catch(() => {
      if (this.active === seg) this.active = undefined;
    });
    return seg;
  }
}

interface Segment {
  gen: number;
  file: string;
  bytes: number;
  handle: Promise<FileHandle>;
}

export interface SegmentInfo {
  gen: number;
  bytes: number;
  records: number;
}

export function segmentFile(storeFile: string, gen: number): string {
  return `${storeFile}.journal-${gen}`;
}

/** The journal segments beside `storeFile`, ascending gen. */
export async function listSegments(storeFile: string): Promise<{ gen: number; file: string }[]> {
  const dir = path.dirname(storeFile);
  const prefix = `${path.basename(storeFile)}.journal-`;
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names
    .filter((n) => n.startsWith(prefix) && /^[0-9]{1,15}$/.test(n.slice(prefix.length)))
    .map((n) => ({ gen: Number(n.slice(prefix.length)), file: path.join(dir, n) }))
    .sort((a, b) => a.gen - b.gen);
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** How a segment's reading ended: `torn` is a damaged tail with nothing valid after it; `corrupt` has whole records after the damage. */
export interface SegmentRead {
  /** Bytes of whole, valid records from the start. */
  validBytes: number;
  size: number;
  damage?: 'torn' | 'corrupt';
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Reads a segment in chunks and hands each whole record's JSON to `onRecord`, in order, without holding
 * the whole segment in memory. After damage, the rest of the file is read to tell a torn tail from
 * damage in the middle.
 */
export async function readSegment(file: string, onRecord: (json: string) => void): Promise<SegmentRead> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    let pending = Buffer.alloc(0);
    let base = 0; // file offset of pending[0]
    for (let pos = 0; pos < size || pending.length > 0;) {
      if (pos < size) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
        pos += bytesRead;
        pending = pending.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
        if (bytesRead === 0) break;
      }
      const decoded = decodeFrames(pending);
      for (const frame of decoded.frames) onRecord(frame.text);
      if (!decoded.stop) {
        base += pending.length;
        pending = Buffer.alloc(0);
        if (pos >= size) break;
        continue;
      }
      if (decoded.stop === 'short' && pos < size) {
        base += decoded.end;
        pending = pending.subarray(decoded.end);
        continue;
      }
      // damage, or a frame cut short at the end of the file: read the rest to see whether anything valid follows
      const validBytes = base + decoded.end;
      let rest = pending.subarray(decoded.end);
      if (pos < size) {
        const tail = Buffer.allocUnsafe(size - pos);
        const { bytesRead } = await handle.read(tail, 0, tail.length, pos);
        rest = Buffer.concat([rest, tail.subarray(0, bytesRead)]);
      }
      return { validBytes, size, damage: validFrameAfter(rest, 0) ? 'corrupt' : 'torn' };
    }
    return { validBytes: size, size };
  } finally {
    await handle.close();
  }
}

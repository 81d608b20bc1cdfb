/**
 * Records framed in a file under the data directory, for the operation store's journal and the InfluxDB spool
 * alike: `# <length> <crc>\n<text>\n`, the byte length and CRC-32 of the text's UTF-8 bytes in 8 hex digits each.
 * The length, not the newline, ends a frame (a text may hold any character), and the CRC tells a torn or damaged
 * frame from a whole one. A spool segment so framed is still line protocol (the headers are comments).
 */
import zlib from 'node:zlib';

/** `# xxxxxxxx xxxxxxxx\n` */
const HEADER = 20;
const HASH = 0x23;
const SPACE = 0x20;
const NL = 0x0a;

type Crc32 = (data: Uint8Array, value?: number) => number;
/** node:zlib's crc32 (Node >= 20.15), or the same CRC-32 (IEEE) in JavaScript on older Node 20 releases. */
export const crc32: Crc32 = (zlib as { crc32?: Crc32 }).crc32 ?? jsCrc32;

let table: Int32Array | undefined;
function jsCrc32(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let crc = ~value;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** The texts as one buffer of frames, ready for one append. */
export function encodeFrames(texts: readonly string[]): Buffer {
  let size = 0;
  for (const text of texts) size += HEADER + Buffer.byteLength(text) + 1;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const text of texts) {
    const len = buf.write(text, off + HEADER);
    const crc = crc32(buf.subarray(off + HEADER, off + HEADER + len));
    buf.write(`# ${hex8(len)} ${hex8(crc)}\n`, off, 'latin1');
    buf[off + HEADER + len] = NL;
    off += HEADER + len + 1;
  }
  return buf;
}

/** The 8 hex digits at `off`, or -1. */
function readHex8(buf: Buffer, off: number): number {
  let n = 0;
  for (let i = off; i < off + 8; i++) {
    const c = buf[i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

export interface Frame {
  /** Byte offset of the frame in the buffer. */
  at: number;
  /** The framed text. */
  text: string;
}

/** What `decodeFrames` found: the whole frames from `from` on, where they end, and why reading stopped before the end. */
export interface DecodedFrames {
  frames: Frame[];
  /** Offset just past the last whole frame. */
  end: number;
  /** `short`: the buffer ends inside a frame (more bytes may follow, or a torn tail); `bad`: a frame is not what was written. */
  stop?: 'short' | 'bad';
}

/** The whole, valid frames of `buf` from `from` on. */
export function decodeFrames(buf: Buffer, from = 0): DecodedFrames {
  const frames: Frame[] = [];
  let off = from;
  while (off < buf.length) {
    if (buf.length - off < HEADER) return { frames, end: off, stop: buf[off] === HASH ? 'short' : 'bad' };
    const len = readHex8(buf, off + 2);
    const crc = readHex8(buf, off + 11);
    if (buf[off] !== HASH || buf[off + 1] !== SPACE || buf[off + 10] !== SPACE || buf[off + 19] !== NL || len < 0 || crc < 0) {
      return { frames, end: off, stop: 'bad' };
    }
    const end = off + HEADER + len;
    if (end + 1 > buf.length) return { frames, end: off, stop: 'short' };
    const payload = buf.subarray(off + HEADER, end);
    if (buf[end] !== NL || crc32(payload) !== crc) return { frames, end: off, stop: 'bad' };
    frames.push({ at: off, text: payload.toString('utf8') });
    off = end + 1;
  }
  return { frames, end: off };
}

/** Whether a whole, valid frame starts anywhere in `buf` after `from` (damage followed by good records is not a torn tail). */
export function validFrameAfter(buf: Buffer, from: number): boolean {
  for (let i = buf.indexOf(HASH, from + 1); i >= 0; i = buf.indexOf(HASH, i + 1)) {
    const { frames } = decodeFrames(buf.subarray(i, Math.min(buf.length, i + HEADER + 1 + readLen(buf, i))));
    if (frames.length > 0) return true;
  }
  return false;
}

function readLen(buf: Buffer, at: number): number {
  return buf.length - at >= HEADER ? Math.max(0, readHex8(buf, at + 2)) : 0;
}

import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { errorText } from '../../log/errorText.js';

const WRITE_BYTES = 256 * 1024;
const SYNC_BYTES = 1024 * 1024;

/** The file exists but its content cannot be parsed: the caller decides what to do with it. */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`${file} is corrupt: ${errorText(cause)}`, { cause });
    this.name = 'CorruptFileError';
  }
}

/** Turns the data into the bytes of the file and back. `encode` is iterated while the file is written. */
export interface Codec<T> {
  parse(bytes: Buffer): T;
  encode(data: T): Iterable<Buffer>;
}

/**
 * A lowdb adapter that replaces its file atomically and durably: the new content goes to a temp file in
 * the same directory, which is fsync'd, renamed over the target, and then the directory is fsync'd so
 * the rename itself survives a power cut. A crash at any point leaves either the old or the new file,
 * never a torn one. (lowdb's own JSONFile, through steno, renames without any fsync.)
 *
 * `write()` encodes chunk by chunk while it writes (the event loop runs between chunks): the data handed
 * to it must not change meanwhile (the store hands it a snapshot of frozen operations). Chunks are
 * gathered into writes of about WRITE_BYTES.
 */
export class DurableFile<T> implements Adapter<T> {
  readonly tempFile: string;
  private readonly dir: string;
  /** Bytes written to temp files since construction. */
  bytesWritten = 0;

  constructor(
    readonly file: string,
    private readonly codec: Codec<T>,
  ) {
    this.dir = path.dirname(file);
    this.tempFile = path.join(this.dir, `.${path.basename(file)}.tmp`);
  }

  /** null when the file does not exist; CorruptFileError when it cannot be parsed; other I/O errors as they are. */
  async read(): Promise<T | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      return this.codec.parse(bytes);
    } catch (e) {
      throw new CorruptFileError(this.file, e);
    }
  }

  write(data: T): Promise<void> {
    return this.replace(this.codec.encode(data));
  }

  private async replace(chunks: Iterable<Buffer>): Promise<void> {
    const handle = await open(this.tempFile, 'w');
    try {
      let batch: Buffer[] = [];
      let batchBytes = 0;
      let pos = 0;
      let unsynced = 0;
      const flush = async () => {
        const { bytesWritten } = await handle.writev(batch, pos);
        if (bytesWritten !== batchBytes) throw new Error(`short write to ${this.tempFile}: ${bytesWritten} of ${batchBytes} bytes`);
        pos += batchBytes;
        unsynced += batchBytes;
        // Little dirty data at a time: on ext4 (data=ordered) an fsync of another file (the journal's
        // append) waits for the dirty data of this one too, so a 30 MB snapshot must not pile up unsynced.
        if (unsynced >= SYNC_BYTES) {
          await handle.datasync();
          unsynced = 0;
        }
        this.bytesWritten += batchBytes;
        batch = [];
        batchBytes = 0;
      };
      for (const chunk of chunks) {
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BYTES) await flush();
      }
      if (batchBytes > 0) await flush();
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.tempFile, this.file);
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

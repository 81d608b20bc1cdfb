import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { errorText } from '../../log/errorText.js';

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

/** Turns the data into the bytes of the file and back. `encode` runs synchronously (see DurableFile). */
export interface Codec<T> {
  parse(bytes: Buffer): T;
  encode(data: T): Buffer[];
}

/**
 * A lowdb adapter that replaces its file atomically and durably: the new content goes to a temp file in
 * the same directory, which is fsync'd, renamed over the target, and then the directory is fsync'd so
 * the rename itself survives a power cut. A crash at any point leaves either the old or the new file,
 * never a torn one. (lowdb's own JSONFile, through steno, renames without any fsync.)
 *
 * `write()` encodes synchronously, before its first await: the data written is the data as it was when
 * `write()` was called, whatever changes after. The encoded chunks go out with one writev, never joined.
 */
export class DurableFile<T> implements Adapter<T> {
  readonly tempFile: string;
  private readonly dir: string;

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

  private async replace(chunks: Buffer[]): Promise<void> {
    let size = 0;
    for (const chunk of chunks) size += chunk.length;
    const handle = await open(this.tempFile, 'w');
    try {
      const { bytesWritten } = await handle.writev(chunks);
      if (bytesWritten !== size) throw new Error(`short write to ${this.tempFile}: ${bytesWritten} of ${size} bytes`);
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

import { appendFile, rename, stat } from 'node:fs/promises';
import type { LogSink } from '../log/logger.js';
import { errorFields } from '../log/errorText.js';

/**
 * Where lines InfluxDB refused are set aside for an operator: a capped file of line protocol, each line
 * after a `# <time> <reason>: <error>` comment. When the file would pass `maxBytes` it becomes
 * `<name>.1.lp` (replacing the previous one), so at most about twice `maxBytes` is kept, the newest.
 * Best effort: a failed write is logged, never thrown.
 */
export class RejectedLines {
  private bytes: number | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly log: LogSink,
  ) {}

  /** Appends one line; resolves once it is written (or could not be). */
  add(line: string, reason: string, error: string): Promise<void> {
    const comment = `# ${new Date().toISOString()} ${reason}: ${error.replace(/[\r\n]+/g, ' ').slice(0, 500)}\n`;
    const entry = Buffer.from(`${comment}${line}\n`);
    const run = this.chain.then(async () => {
      try {
        this.bytes ??= await stat(this.file).then(
          (s) => s.size,
          () => 0,
        );
        if (this.bytes > 0 && this.bytes + entry.length > this.maxBytes) {
          await rename(this.file, this.file.replace(/(\.lp)?$/, '.1.lp'));
          this.bytes = 0;
        }
        if (entry.length > this.maxBytes) return; // counted and logged by the writer; too big to keep
        await appendFile(this.file, entry);
        this.bytes += entry.length;
      } catch (err) {
        this.bytes = undefined;
        this.log.warn({ ...errorFields(err), file: this.file }, 'could not keep a refused point aside');
      }
    });
    this.chain = run;
    return run;
  }
}

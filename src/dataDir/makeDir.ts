import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * `mkdir -p`, one level at a time from the deepest directory that exists. Node's own recursive mkdir
 * never returns under /proc (it retries the ENOENT /proc answers for a directory it cannot create, on
 * Node 20 at least: a daemon started with `dataDir: /proc/x` hung silently); here every failure is
 * thrown as it is (ENOENT, EACCES, EROFS, ENOTDIR).
 */
export async function makeDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    try {
      const s = await stat(current);
      if (!s.isDirectory())
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), { code: 'ENOTDIR', path: current });
      break;
    } catch (err) {
      const parent = path.dirname(current);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw err;
      missing.push(current);
      current = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

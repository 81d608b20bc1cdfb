import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real, small filesystem (a tmpfs the test mounts and removes) for "disk full" tests: `fill()` takes
 * every free byte with a filler file, `free()` deletes it. Needs root (as on the project's machines and CI).
 */
export interface SmallDisk {
  readonly dir: string;
  fill(): Promise<void>;
  free(): Promise<void>;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(sizeKiB = 1024): Promise<SmallDisk> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-smalldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs for the disk-full test (needs root): ${(err as Error).message}`, { cause: err });
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    async fill() {
      const handle = await open(filler, 'a');
      const chunk = Buffer.alloc(4096, 0x78);
      try {
        for (;;) await handle.write(chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        await handle.close();
      }
      // a short write can leave a few bytes: take them too
      const last = await open(filler, 'a');
      try {
        for (;;) await last.write(Buffer.alloc(1));
      } catch {
        // full
      } finally {
        await last.close();
      }
    },
    async free() {
      await unlink(filler).catch(() => undefined);
    },
    async unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One daemon per data directory. Two daemons on one `dataDir` would each load the operation store, hand
 * out the same ids and overwrite each other's file: an acknowledged operation would be lost.
 *
 * The lock is a listening unix socket in Linux's abstract namespace, named after the directory's real
 * path. Binding it is atomic, and the kernel releases it the moment the process ends however it ends
 * (kill -9, power cut: nothing stale is left behind to clean up, unlike a pid file or a lock directory
 * with a staleness timeout, which would delay every restart after a crash). A second daemon's bind fails
 * with EADDRINUSE; it then connects to the socket, where the holder answers with its pid, for the message.
 * Limits: Linux only (elsewhere no lock is taken, with a warning), and per network namespace (two
 * containers sharing a data directory through a volume do not see each other's lock).
 */
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `dataDir ${dataDir} is in use by another lwm2m-backend${holderPid ? ` (pid ${holderPid})` : ''}: ` +
        'two daemons on one data directory would hand out the same operation ids; stop the other one or give this one its own dataDir',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** False where the platform has no abstract sockets (not Linux): nothing is locked. */
  readonly held: boolean;
  release(): Promise<void>;
}

/** The abstract socket name for a directory: fixed-length, whatever the path's length (the limit is 107 bytes). */
export function lockName(realDir: string): string {
  return `\0lwm2m-backend/${createHash('sha256').update(realDir).digest('hex').slice(0, 40)}`;
}

/** Takes the lock on `dataDir` (which must exist); DataDirLockedError when another process holds it. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const real = await realpath(dataDir);
  const name = lockName(real);
  const server = createServer((socket) => socket.end(JSON.stringify({ pid: process.pid, dataDir: real })));
  try {
    await listen(server, name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new DataDirLockedError(real, await holderPid(name));
    if (process.platform !== 'linux') return { held: false, release: async () => {} };
    throw err;
  }
  server.unref();
  return {
    held: true,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listen(server: Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Asks the holder of the lock for its pid (undefined when it does not say within a second). */
function holderPid(name: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection(name);
    const done = (pid: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => done(undefined), 1000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > 4096) done(undefined);
    });
    socket.on('end', () => {
      try {
        const pid = (JSON.parse(text) as { pid?: unknown }).pid;
        done(typeof pid === 'number' ? pid : undefined);
      } catch {
        done(undefined);
      }
    });
    socket.on('error', () => done(undefined));
  });
}

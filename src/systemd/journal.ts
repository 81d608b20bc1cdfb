import { fstatSync } from 'node:fs';

/**
 * True when stdout is connected to the journal: systemd sets `JOURNAL_STREAM=<device>:<inode>` of the
 * stream it hands the service, and a process checks it against its own fd (a shell pipe in between
 * would not match: then the `<N>` prefixes would only clutter the output).
 */
export function stdoutIsJournal(env: Record<string, string | undefined>, fd = 1): boolean {
  const stream = env.JOURNAL_STREAM;
  if (!stream) return false;
  const [dev, ino] = stream.split(':');
  try {
    const s = fstatSync(fd, { bigint: true });
    return String(s.dev) === dev && String(s.ino) === ino;
  } catch {
    return false;
  }
}

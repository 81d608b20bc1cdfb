import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** A namespaced JSON logger; `child({ component })` names the part of the daemon that logs. */
export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * One JSON object per line on stdout, which journald keeps as it is:
 * `{"level":"info","time":"2026-11-25T17:00:00.000Z","component":"http","message":"listening","port":8000}`.
 * With `journald` (stdout is the journal) each line starts with its syslog priority, `<4>{"level":"warn",…`.
 * Calls below the level are no-ops (pino swaps in empty functions), so debug lines on hot paths cost
 * nothing at info level as long as their arguments are cheap; guard costly ones with `isLevelEnabled`.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, options: { journald?: boolean } = {}): Logger {
  return pino(
    {
      level,
      ...(options.journald && { hooks: { streamWrite: withJournalPriority } }),
      base: undefined,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** syslog priorities (sd-daemon(3)) of pino's levels, as the `<N>` prefix journald reads off each line. */
const PRIORITY: Record<string, string> = { trace: '<7>', debug: '<7>', info: '<6>', warn: '<4>', error: '<3>', fatal: '<2>' };
const LEVEL_AT = '{"level":"'.length;

/**
 * Prefixes a line with its journald priority, so that `journalctl -p warning` finds warnings (journald
 * strips the prefix). The level is the line's first field (`base` is empty), read without parsing.
 */
export function withJournalPriority(line: string): string {
  const end = line.indexOf('"', LEVEL_AT);
  return (PRIORITY[line.slice(LEVEL_AT, end)] ?? '<6>') + line;
}

/**
 * The logging a component needs when it takes a logger from outside (a pino Logger fits, and so does a
 * test's fake): each component picks the levels it uses.
 */
export interface LogSink {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

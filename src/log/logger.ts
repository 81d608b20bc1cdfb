import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/** A namespaced JSON logger; `child({ component })` names the part of the daemon that logs. */
export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * One JSON object per line on stdout, which journald keeps as it is:
 * `{"level":"info","time":"2026-11-25T17:00:00.000Z","component":"http","message":"listening","port":8000}`.
 * Calls below the level are no-ops (pino swaps in empty functions), so debug lines on hot paths cost
 * nothing at info level as long as their arguments are cheap; guard costly ones with `isLevelEnabled`.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
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

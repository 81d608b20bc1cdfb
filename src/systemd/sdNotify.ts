import { createRequire } from 'node:module';
import type { LogSink } from '../log/logger.js';
import { errorFields } from '../log/errorText.js';

/** The part of the `unix-dgram` native module used here (it ships no types). */
interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/** systemd's notify protocol: `READY=1`, `WATCHDOG=1`, `STOPPING=1`. A no-op outside systemd. */
export interface Notifier {
  readonly enabled: boolean;
  ready(): void;
  stopping(): void;
  close(): void;
}

const require = createRequire(import.meta.url);

function loadUnixDgram(log: LogSink): UnixDgram | undefined {
  try {
    return require('unix-dgram') as UnixDgram;
  } catch (err) {
    log.warn(errorFields(err), 'NOTIFY_SOCKET is set but unix-dgram could not be loaded: no sd_notify');
    return undefined;
  }
}

/** The watchdog interval asked for by systemd, if it is meant for this process: half of WATCHDOG_USEC. */
export function watchdogIntervalMs(env: Record<string, string | undefined>, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/**
 * Talks to systemd over the datagram socket in NOTIFY_SOCKET (Type=notify). Node cannot send unix
 * datagrams by itself, hence the `unix-dgram` addon, as zigbee2mqtt does. Abstract socket names
 * (`@name`) are supported. The watchdog ping starts with `ready()`, not before: a daemon that hangs
 * while starting is killed by TimeoutStartSec, and one that hangs later by WatchdogSec.
 */
export function createNotifier(env: Record<string, string | undefined>, log: LogSink): Notifier {
  const target = env.NOTIFY_SOCKET;
  const dgram = target ? loadUnixDgram(log) : undefined;
  if (!target || !dgram) return { enabled: false, ready() {}, stopping() {}, close() {} };
  const path = target.startsWith('@') ? `\0${target.slice(1)}` : target;
  const socket = dgram.createSocket('unix_dgram');
  socket.on('error', (err) => log.warn(errorFields(err), 'sd_notify socket error'));
  let watchdog: NodeJS.Timeout | undefined;
  let closed = false;

  const send = (message: string): void => {
    if (closed) return;
    const buf = Buffer.from(message);
    socket.send(buf, 0, buf.length, path, (err) => {
      if (err) log.warn({ ...errorFields(err), message }, 'sd_notify send failed');
    });
  };

  return {
    enabled: true,
    ready() {
      send('READY=1');
      const interval = watchdogIntervalMs(env);
      if (interval !== undefined && watchdog === undefined) {
        watchdog = setInterval(() => send('WATCHDOG=1'), interval);
        watchdog.unref();
      }
    },
    stopping() {
      if (watchdog) clearInterval(watchdog);
      watchdog = undefined;
      send('STOPPING=1');
    },
    close() {
      if (watchdog) clearInterval(watchdog);
      if (!closed) socket.close();
      closed = true;
    },
  };
}

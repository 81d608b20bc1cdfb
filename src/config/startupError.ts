/**
 * A start-up failure the operator must fix in the configuration or on the machine (a port in use, a data
 * directory that cannot be created): main prints its one line, naming the key, and exits 78 (EX_CONFIG),
 * which the systemd unit does not restart on.
 */
export class StartupError extends Error {
  constructor(
    /** The configuration key to look at, e.g. `http.port`. */
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${key}: ${message}`, options);
    this.name = 'StartupError';
  }
}

/** `EACCES: permission denied`-style text of a system error, or its message. */
export function systemErrorText(err: unknown): string {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    const text = typeof message === 'string' ? /^[A-Z]+: ([^,]+)/.exec(message)?.[1] : undefined;
    return text ? `${code}: ${text}` : code;
  }
  return typeof message === 'string' ? message : String(err);
}

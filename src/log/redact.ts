/** Secrets kept out of what the daemon shows: /health, the start-up line, `--print-config`. Pure. */

/** A URL fit for an open endpoint or a log line: a user name or password in it is replaced by `***`. */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** `***` for a secret that is set, `""` for one that is not (so that "no token" stays visible). */
export function maskSecret(secret: string): string {
  return secret === '' ? '' : '***';
}

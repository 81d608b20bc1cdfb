/**
 * An error as one line of text for a log field or a stored `error`: its message (for Node's
 * happy-eyeballs AggregateError, whose message is empty, the messages inside it), its code when the
 * message does not already hold it, and the message of its cause. Never throws.
 */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let message = e.message;
  if (message === '' && e instanceof AggregateError) message = e.errors.map(errorText).join('; ');
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && !message.includes(code)) message = message ? `${message} (${code})` : code;
  const cause = e.cause instanceof Error && e.cause.message && !message.includes(e.cause.message) ? `: ${e.cause.message}` : '';
  return `${message || e.name}${cause}`;
}

/**
 * The fields every log line about an error carries: `err` (errorText) and, for failures that point at
 * a bug (an unexpected exception, an HTTP 500), `stack`. The one way errors are logged.
 */
export function errorFields(e: unknown, options: { stack?: boolean } = {}): { err: string; stack?: string } {
  const fields: { err: string; stack?: string } = { err: errorText(e) };
  if (options.stack && e instanceof Error && e.stack) fields.stack = e.stack;
  return fields;
}

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

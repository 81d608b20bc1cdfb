/**
 * What an endpoint name may be. Pure: no I/O. One rule for every door a name comes in by (Leshan's
 * posts, its event stream, the operator API), so that a name the daemon took can always be stored.
 *
 * Stored: 1-256 characters, no control characters (C0, DEL, C1) and no backslash. The name becomes an
 * InfluxDB tag value, and line protocol has no way to carry a control character, nor a backslash before
 * a space, comma, equals sign or the end of the value (InfluxDB reads it as an escape and refuses the
 * line, or stores another name). Refusing them at the door is the only way such a line never reaches
 * InfluxDB. Leshan itself accepts any string; such a device's values are refused with a 4xx and counted.
 *
 * Addressable (operations): besides, Leshan's REST API must be able to route `/api/clients/{ep}/...` to
 * it: its servlet splits the decoded path on `/`, Jetty cuts a path segment at `;`, refuses `%`-encoded
 * separators and normalises `.` and `..`, so such names can never be reached and an operation for one
 * is refused at once instead of failing later.
 */

/** Longest endpoint name accepted (Leshan has no limit; an InfluxDB tag value should stay short). */
export const MAX_ENDPOINT_NAME_LENGTH = 256;

// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000-\u001f\u007f-\u009f\\]/;
const UNADDRESSABLE = /[/;%]/;

/** Why `name` cannot be stored as an endpoint name, or undefined when it can. */
export function endpointNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string')
    return name === undefined ? 'missing ep' : `ep must be a string, got ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return 'ep must not be empty';
  if (name.length > MAX_ENDPOINT_NAME_LENGTH) return `ep is longer than ${MAX_ENDPOINT_NAME_LENGTH} characters`;
  const bad = UNSTORABLE.exec(name);
  if (bad)
    return bad[0] === '\\'
      ? 'ep must not contain a backslash'
      : `ep must not contain control characters (U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`;
  return undefined;
}

/** Why operations cannot be sent to `name` through Leshan's REST API (besides endpointNameProblem), or undefined. */
export function endpointAddressProblem(name: unknown): string | undefined {
  const problem = endpointNameProblem(name);
  if (problem !== undefined) return problem;
  const ep = name as string;
  if (ep === '.' || ep === '..') return `ep "${ep}" cannot be addressed through Leshan's REST API`;
  const bad = UNADDRESSABLE.exec(ep);
  if (bad) return `ep must not contain "${bad[0]}": Leshan's REST API cannot address such a name`;
  return undefined;
}

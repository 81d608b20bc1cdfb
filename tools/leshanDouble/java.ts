// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * The Java exceptions the ClientServlet reacts to, and the few library parsers whose errors decide the HTTP answer:
 * LwM2mPath(String), execute Arguments.parse, the write-attributes query parser.
 * Messages are close to Leshan's; the prefixes written by handleException are exact (§1.3).
 */

export type JavaExKind =
  | 'InvalidRequest' // InvalidRequestException, CodecException, ClientSleepingException → 400 "Invalid request: "
  | 'Runtime' // IllegalArgumentException, NPE, InvalidLwM2mPathException… → 500 "Unexpected exception: "
  | 'JsonProcessing' // Jackson JsonProcessingException (an IOException)
  | 'InvalidAttribute' // checked InvalidAttributeException
  | 'Rejected'
  | 'Cancelled'
  | 'InvalidResponse';

export class JavaException extends Error {
  constructor(
    readonly jkind: JavaExKind,
    message: string,
  ) {
    super(message);
  }
}

export const invalidRequest = (m: string): JavaException => new JavaException('InvalidRequest', m);
export const runtime = (m: string): JavaException => new JavaException('Runtime', m);
export const jsonProcessing = (m: string): JavaException => new JavaException('JsonProcessing', m);
export const npe = (m: string): JavaException => runtime(m);

/** `handleException` of the ClientServlet: status and text body (no content type is set). */
export function handleException(e: unknown): { status: number; text: string } {
  if (!(e instanceof JavaException)) throw e;
  switch (e.jkind) {
    case 'InvalidRequest':
      return { status: 400, text: `Invalid request: ${e.message}` };
    case 'Rejected':
      return { status: 500, text: `Request rejected: ${e.message}` };
    case 'Cancelled':
      return { status: 500, text: `Request cancelled: ${e.message}` };
    case 'InvalidResponse':
      return { status: 500, text: `Invalid Response: ${e.message}` };
    default:
      return { status: 500, text: `Unexpected exception: ${e.message}` };
  }
}

const INT_RE = /^[+-]?\d+$/;

/** Java Integer.valueOf / Integer.parseInt. */
export function parseJavaInt(s: string): number {
  if (!INT_RE.test(s)) throw runtime(`For input string: "${s}"`);
  const n = Number(s);
  if (n < -2147483648 || n > 2147483647) throw runtime(`For input string: "${s}"`);
  return n;
}

/** Java String.split(sep) with limit 0: trailing empty strings are removed. */
export function javaSplit(s: string, sep: string): string[] {
  if (!s.includes(sep)) return [s];
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export type LwPath = readonly number[]; // 0 (root) to 4 ids

export const pathToString = (p: LwPath): string => '/' + p.join('/');

const MAX_IDS = [65535, 65534, 65535, 65535];
const ID_NAMES = ['object', 'object instance', 'resource', 'resource instance'];

/** `new LwM2mPath(String)`: throws InvalidLwM2mPathException, a plain RuntimeException. */
export function parseLwPath(raw: string): LwPath {
  let path = raw;
  if (path.startsWith('/')) path = path.substring(1);
  if (path.endsWith('/')) path = path.substring(0, path.length - 1);
  const p = javaSplit(path, '/');
  if (p.length > 4) throw runtime(`Invalid length for path ${path}`);
  const ids: number[] = [];
  for (let i = 0; i < p.length; i++) {
    const seg = p[i] ?? '';
    if (i === 0 && seg === '') {
      if (p.length > 1) throw runtime(`Invalid path ${raw}: object id must not be null`);
      break;
    }
    if (!INT_RE.test(seg) || Math.abs(Number(seg)) > 2147483647) throw runtime(`Invalid elements in path ${path}`);
    const id = Number(seg);
    const max = MAX_IDS[i] ?? 65535;
    if (id < 0 || id > max) throw runtime(`Invalid path ${raw}: ${ID_NAMES[i]} id must be between 0 and ${max}`);
    ids.push(id);
  }
  return ids;
}

/** AbstractSimpleDownlinkRequest.newPath: wraps the path error into an InvalidRequestException (400). */
export function newPath(raw: string): LwPath {
  try {
    return parseLwPath(raw);
  } catch (e) {
    if (e instanceof JavaException) {
      throw invalidRequest(`org.eclipse.leshan.core.node.InvalidLwM2mPathException: ${e.message}`);
    }
    throw e;
  }
}

/** Arguments.parse (execute), wrapped as ExecuteRequest does: 400 "Invalid Execute request : [...]". */
export function parseExecuteArgs(arglist: string | null): Map<number, string | null> {
  const args = new Map<number, string | null>();
  const fail = (m: string): never => {
    throw invalidRequest(`Invalid Execute request : [${m}]`);
  };
  if (arglist === null || arglist === '') return args;
  let cursor = 0;
  for (;;) {
    if (cursor === arglist.length) {
      fail(`Unable to parse Arguments [${arglist}] : unexpected EOF, expected argument after ${arglist.substring(0, cursor)}`);
    }
    const digitChar = arglist.charAt(cursor);
    if (!/^\d$/.test(digitChar)) {
      fail(`Unable to parse Arguments [${arglist}] : Invalid digit [${digitChar}] (an integer between 0 and 9 is expected)`);
    }
    const digit = Number(digitChar);
    cursor++;
    let value: string | null = null;
    if (cursor < arglist.length && arglist.charAt(cursor) === '=') {
      cursor++;
      if (cursor < arglist.length && arglist.charAt(cursor) !== "'") {
        fail(
          `Unable to parse Arguments [${arglist}] : opening quote ['] is expected at index ${cursor} after [${arglist.substring(0, cursor)}]`,
        );
      }
      cursor++;
      const end = arglist.indexOf("'", cursor);
      if (end === -1) fail(`Unable to parse Arguments [${arglist}] : Argument value must end with quote['].`);
      value = arglist.substring(cursor, end);
      cursor = end + 1;
    }
    if (args.has(digit)) {
      fail(`Unable to parse Arguments [${arglist}] : Unable to build Arguments : digit [${digit}] exists more than once `);
    }
    args.set(digit, value);
    if (cursor === arglist.length) return args;
    if (arglist.charAt(cursor) !== ',') {
      fail(`Unable to parse Arguments [${arglist}] : [,] separator expected at index ${cursor} after [${arglist.substring(0, cursor)}]`);
    }
    cursor++;
  }
}

const UINT_ATTRS = new Set(['pmin', 'pmax', 'epmin', 'epmax', 'hqmax']);
const NUM_ATTRS = new Set(['gt', 'lt', 'st']);
const BIT_ATTRS = new Set(['edge', 'con']);
const READONLY_ATTRS = new Set(['dim', 'ssid', 'uri', 'ver', 'lwm2m']);

/**
 * DefaultLwM2mAttributeParser.parseUriQuery on the *whole* query string, as the servlet does: so `?timeout=5` on a
 * write-attributes request is an unknown attribute. Throws InvalidAttributeException (or InvalidRequest for a
 * known but non-writable attribute).
 */
export function parseWriteAttributes(query: string | null): Map<string, string | null> {
  const attrs = new Map<string, string | null>();
  if (query === null) return attrs;
  const bad = (m: string): never => {
    throw new JavaException('InvalidAttribute', m);
  };
  for (const param of query.split('&')) {
    const eq = param.indexOf('=');
    if (eq === param.length - 1 && eq !== -1) bad(`Cannot parse query param '${param}', value is expected after '=`);
    const name = eq === -1 ? param : param.substring(0, eq);
    const value = eq === -1 ? null : param.substring(eq + 1);
    if (name === '') bad('unable to parse an attribute without name');
    if (READONLY_ATTRS.has(name)) throw invalidRequest(`Attribute ${name} can not be written`);
    const known = UINT_ATTRS.has(name) || NUM_ATTRS.has(name) || BIT_ATTRS.has(name);
    if (!known) bad(`${name} attribute is unknown or not a LWM2M attribute`);
    if (value !== null) {
      const ok = UINT_ATTRS.has(name)
        ? /^\d+$/.test(value)
        : NUM_ATTRS.has(name)
          ? /^-?\d+(\.\d+)?$/.test(value)
          : value === '0' || value === '1';
      if (!ok) bad(`Invalid ${name} attribute value '${value}'`);
    }
    attrs.set(name, value);
  }
  return attrs;
}

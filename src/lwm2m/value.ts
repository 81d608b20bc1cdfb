/*
 * LwM2M resource types and value conversion. Liberal in the encodings accepted (Leshan 2.x strings,
 * Leshan 1.x natural JSON and ISO dates, the seed backend's forms), strict in range. Runs on the ingest
 * hot path: no per-call regexes except for rare ISO dates, no exceptions unless the value is bad.
 */
import { MAX_ID } from './path.js';

/** A resource type name as Leshan spells it (`ResourceModel.Type`). */
export type ResourceType =
  'STRING' | 'INTEGER' | 'UNSIGNED_INTEGER' | 'FLOAT' | 'BOOLEAN' | 'OPAQUE' | 'TIME' | 'OBJLNK' | 'CORELINK' | 'NONE';

/** Every resource type, in Leshan's enum order. */
export const RESOURCE_TYPES: readonly ResourceType[] = Object.freeze([
  'STRING',
  'INTEGER',
  'FLOAT',
  'BOOLEAN',
  'OPAQUE',
  'TIME',
  'OBJLNK',
  'CORELINK',
  'UNSIGNED_INTEGER',
  'NONE',
] as const);

const TYPE_BY_NAME: ReadonlyMap<string, ResourceType> = new Map(RESOURCE_TYPES.map((t) => [t, t]));

/**
 * The resource type named by `x`, compared case-insensitively (Leshan upper-cases it, its UI sends lower case),
 * or `undefined` when `x` is not a string naming one.
 */
export function parseResourceType(x: unknown): ResourceType | undefined {
  if (typeof x !== 'string') return undefined;
  return TYPE_BY_NAME.get(x) ?? TYPE_BY_NAME.get(x.toUpperCase());
}

/** An LwM2M object link: object id and object instance id (65535:65535 is the null link). */
export interface ObjectLink {
  objectId: number;
  objectInstanceId: number;
}

/** A resource value in canonical form, tagged with its type. */
export type TypedValue =
  | { type: 'STRING' | 'CORELINK'; value: string }
  /** canonical decimal: no leading zeros, no '+', '-0' -> '0' */
  | { type: 'INTEGER' | 'UNSIGNED_INTEGER'; value: string }
  /** integer ms since the epoch */
  | { type: 'TIME'; value: number }
  /** finite */
  | { type: 'FLOAT'; value: number }
  | { type: 'BOOLEAN'; value: boolean }
  /** lower-case hex, even length */
  | { type: 'OPAQUE'; value: string }
  | { type: 'OBJLNK'; value: ObjectLink };

/** A value that cannot be converted to the requested type; the message says why. */
export class ValueError extends Error {
  override name = 'ValueError';
}

const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';
const UINT64_MAX = '18446744073709551615';

/**
 * Converts a raw JSON value to a typed value of `type`, or throws a {@link ValueError}.
 *
 * Accepted forms: STRING/CORELINK a string; INTEGER/UNSIGNED_INTEGER a safe-integer number or a decimal
 * string within int64/uint64; FLOAT a finite number or decimal/exponent string; BOOLEAN a boolean, "true"/"false"
 * (any case), "1"/"0" or 0/1; TIME integer ms (number or digit string) or an ISO-8601 date-time with a zone;
 * OPAQUE a hex string; OBJLNK `{objectId, objectInstanceId}` or "3303:0". NONE never has a value.
 */
export function convertValue(type: ResourceType, raw: unknown): TypedValue {
  switch (type) {
    case 'STRING':
    case 'CORELINK':
      if (typeof raw === 'string') return { type, value: raw };
      throw notA(raw, type);
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      return { type, value: toIntegerString(type, raw) };
    case 'FLOAT':
      return { type, value: toFloat(raw) };
    case 'BOOLEAN':
      return { type, value: toBoolean(raw) };
    case 'TIME':
      return { type, value: toTime(raw) };
    case 'OPAQUE':
      return { type, value: toHex(raw) };
    case 'OBJLNK':
      return { type, value: toObjectLink(raw) };
    case 'NONE':
      throw new ValueError('type NONE carries no value');
    default:
      throw new ValueError(`unknown type ${describe(type)}`);
  }
}

/**
 * The JSON value Leshan 2.x's node deserializer takes in a write body: INTEGER/UNSIGNED_INTEGER as decimal
 * strings (exact beyond 2^53), FLOAT and TIME (ms) as numbers, OBJLNK as `{objectId, objectInstanceId}`.
 */
export function toLeshanValue(v: TypedValue): unknown {
  if (v.type === 'OBJLNK') return { objectId: v.value.objectId, objectInstanceId: v.value.objectInstanceId };
  return v.value;
}

function toIntegerString(type: 'INTEGER' | 'UNSIGNED_INTEGER', raw: unknown): string {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw notA(raw, type);
    if (!Number.isSafeInteger(raw)) {
      throw new ValueError(`${raw} is not a safe integer (send large ${type} values as a decimal string)`);
    }
    if (type === 'UNSIGNED_INTEGER' && raw < 0) throw outOfRange(String(raw), type);
    return String(raw); // String(-0) is "0"
  }
  if (typeof raw !== 'string') throw notA(raw, type);
  const len = raw.length;
  let i = 0;
  let negative = false;
  if (len > 0) {
    const c = raw.charCodeAt(0);
    if (c === 0x2d /* - */ || c === 0x2b /* + */) {
      negative = c === 0x2d;
      i = 1;
    }
  }
  if (i === len) throw notA(raw, type);
  let firstNonZero = -1;
  for (let j = i; j < len; j++) {
    const c = raw.charCodeAt(j);
    if (c < 0x30 || c > 0x39) throw notA(raw, type);
    if (firstNonZero < 0 && c !== 0x30) firstNonZero = j;
  }
  if (firstNonZero < 0) return '0';
  const digits = firstNonZero === 0 ? raw : raw.slice(firstNonZero);
  if (type === 'UNSIGNED_INTEGER') {
    if (negative || exceeds(digits, UINT64_MAX)) throw outOfRange(negative ? `-${digits}` : digits, type);
    return digits;
  }
  if (exceeds(digits, negative ? INT64_MIN_ABS : INT64_MAX)) throw outOfRange(negative ? `-${digits}` : digits, type);
  return negative ? `-${digits}` : digits;
}

/** Whether the digit string `digits` (no leading zeros) is greater than `max`, compared as numbers. */
/** Whether a canonical decimal integer (as an INTEGER or UNSIGNED_INTEGER value holds it) fits a signed 64-bit integer. */
export function fitsInt64(digits: string): boolean {
  return digits.startsWith('-') ? !exceeds(digits.slice(1), INT64_MIN_ABS) : !exceeds(digits, INT64_MAX);
}

function exceeds(digits: string, max: string): boolean {
  if (digits.length !== max.length) return digits.length > max.length;
  return digits > max;
}

function toFloat(raw: unknown): number {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw notA(raw, 'FLOAT');
    return raw === 0 ? 0 : raw; // folds -0
  }
  if (typeof raw !== 'string' || !isDecimal(raw)) throw notA(raw, 'FLOAT');
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ValueError(`${describe(raw)} is out of range for FLOAT (float64)`);
  return n === 0 ? 0 : n;
}

/** `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`, the decimal forms Java and Python print. */
function isDecimal(s: string): boolean {
  const len = s.length;
  let i = 0;
  if (i < len && (s.charCodeAt(i) === 0x2b || s.charCodeAt(i) === 0x2d)) i++;
  let mantissaDigits = 0;
  while (i < len && isDigit(s.charCodeAt(i))) {
    i++;
    mantissaDigits++;
  }
  if (i < len && s.charCodeAt(i) === 0x2e /* . */) {
    i++;
    while (i < len && isDigit(s.charCodeAt(i))) {
      i++;
      mantissaDigits++;
    }
  }
  if (mantissaDigits === 0) return false;
  if (i < len && (s.charCodeAt(i) | 0x20) === 0x65 /* e or E */) {
    i++;
    if (i < len && (s.charCodeAt(i) === 0x2b || s.charCodeAt(i) === 0x2d)) i++;
    const start = i;
    while (i < len && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
  }
  return i === len;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function toBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw === 'string') {
    if (raw === '1') return true;
    if (raw === '0') return false;
    if (raw.length === 4 && raw.toLowerCase() === 'true') return true;
    if (raw.length === 5 && raw.toLowerCase() === 'false') return false;
  }
  throw notA(raw, 'BOOLEAN');
}

function toTime(raw: unknown): number {
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw new ValueError(`${describe(raw)} is not a TIME (integer ms since 1970)`);
    return checkTime(raw, raw);
  }
  if (typeof raw !== 'string' || raw.length === 0) throw new ValueError(`${describe(raw)} is not a TIME`);
  let allDigits = true;
  for (let i = 0; i < raw.length; i++) {
    if (!isDigit(raw.charCodeAt(i))) {
      allDigits = false;
      break;
    }
  }
  if (allDigits) return checkTime(Number(raw), raw);
  return checkTime(parseIsoDateTime(raw), raw);
}

function checkTime(ms: number, raw: unknown): number {
  if (ms < 0 || !Number.isSafeInteger(ms)) {
    throw new ValueError(`${describe(raw)} is out of range for TIME (0 to ${Number.MAX_SAFE_INTEGER} ms)`);
  }
  return ms === 0 ? 0 : ms;
}

// Leshan 1.x writes dates as yyyy-MM-dd'T'HH:mm:ssXXX; toISOString() may write a 6-digit year.
const ISO_DATE_TIME = /^(\d{4}|\+\d{6})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)$/;

/** Milliseconds since the epoch of an ISO-8601 date-time with a zone designator, or throws. */
function parseIsoDateTime(s: string): number {
  const m = ISO_DATE_TIME.exec(s);
  if (m === null) {
    throw new ValueError(`${describe(s)} is not a TIME (ms since 1970 or an ISO-8601 date-time with a zone)`);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    throw new ValueError(`${describe(s)} is not a valid date-time`);
  }
  // Date.UTC maps years 0-99 to 1900-1999; those are before 1970 anyway.
  if (year < 100) throw new ValueError(`${describe(s)} is out of range for TIME (before 1970)`);
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return m[9] === '-' ? utc + offset : utc - offset;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function toHex(raw: unknown): string {
  if (typeof raw !== 'string') throw notA(raw, 'OPAQUE');
  let upper = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (isDigit(c) || (c >= 0x61 && c <= 0x66)) continue;
    if (c >= 0x41 && c <= 0x46) {
      upper = true;
      continue;
    }
    throw new ValueError(`${describe(raw)} is not OPAQUE (expected hex digits)`);
  }
  if (raw.length % 2 !== 0) throw new ValueError(`${describe(raw)} is not OPAQUE (odd number of hex digits)`);
  return upper ? raw.toLowerCase() : raw;
}

function toObjectLink(raw: unknown): ObjectLink {
  if (typeof raw === 'string') {
    const colon = raw.indexOf(':');
    const objectId = colon > 0 ? parseIdText(raw, 0, colon) : -1;
    const objectInstanceId = colon > 0 ? parseIdText(raw, colon + 1, raw.length) : -1;
    if (objectId === -1 || objectInstanceId === -1) throw notA(raw, 'OBJLNK');
    if (objectId === -2 || objectInstanceId === -2) {
      throw new ValueError(`${describe(raw)} is out of range for OBJLNK (ids 0-${MAX_ID})`);
    }
    return { objectId, objectInstanceId };
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    return { objectId: linkId(o.objectId, 'objectId'), objectInstanceId: linkId(o.objectInstanceId, 'objectInstanceId') };
  }
  throw notA(raw, 'OBJLNK');
}

function linkId(x: unknown, name: string): number {
  if (x === undefined) throw new ValueError(`OBJLNK is missing ${name}`);
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new ValueError(`OBJLNK ${name} ${describe(x)} is not an integer`);
  if (x < 0 || x > MAX_ID) throw new ValueError(`OBJLNK ${name} ${x} out of range 0-${MAX_ID}`);
  return x;
}

/** Decimal id in s[start, end): the id, -1 if not digits, -2 if above MAX_ID. */
function parseIdText(s: string, start: number, end: number): number {
  if (start >= end) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    if (n <= MAX_ID) n = n * 10 + (c - 0x30);
  }
  return n > MAX_ID ? -2 : n;
}

function notA(raw: unknown, type: ResourceType): ValueError {
  const article = 'AEIOU'.includes(type[0] ?? '') ? 'an' : 'a';
  return new ValueError(`${describe(raw)} is not ${article} ${type}`);
}

function outOfRange(shown: string, type: 'INTEGER' | 'UNSIGNED_INTEGER'): ValueError {
  const range = type === 'INTEGER' ? 'int64' : 'uint64';
  return new ValueError(`${clip(shown)} is out of range for ${type} (${range})`);
}

/** A short rendering of an untrusted value for error messages. */
export function describe(x: unknown): string {
  switch (typeof x) {
    case 'string':
      return JSON.stringify(clip(x));
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(x);
    case 'undefined':
      return 'nothing';
    case 'object':
      return x === null ? 'null' : Array.isArray(x) ? 'an array' : 'an object';
    default:
      return typeof x;
  }
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

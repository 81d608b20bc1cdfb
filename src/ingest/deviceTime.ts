/**
 * Device times of timestamped posts (LwM2M Send, timestamped notifications): ISO-8601 instants read
 * into ns since the epoch exactly, never through a JS Date or a float (a Date keeps ms, a float ns only
 * to about 0.25 µs today). Pure: no I/O.
 */

/** A device's time as posted: the text, and the same instant in ns since the epoch. */
export interface DeviceTime {
  text: string;
  ns: bigint;
}

/** 2000-01-01T00:00:00Z in ns: a device time before it is a clock that was never set. */
export const Y2000_NS = 946_684_800_000_000_000n;

const NS_PER_S = 1_000_000_000n;

// YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM|±HHMM), as Java's Instant.toString and RFC 3339 write it; Instant
// writes a year beyond 9999 with a sign (+10000) and one before year 0 with a minus (Instant.MAX is +1000000000)
const INSTANT = /^(\d{4}|[+-]\d{4,10})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/;

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * The instant `text` names, in ns since the epoch, or a sentence saying why it is not one. Up to 9
 * fractional digits are kept exactly; an offset other than Z is applied. Years as Java's Instant writes
 * them (+10000, -0001: a clock gone wild is a device time not used, not a malformed post). Leap seconds
 * (:60) are refused, as Java's Instant refuses them.
 */
export function parseInstant(text: string): bigint | string {
  const m = INSTANT.exec(text);
  if (!m) return 'is not an ISO-8601 instant such as 2026-11-29T04:00:00.123456789Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return `has month ${month}`;
  const monthDays = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > monthDays) return `has day ${day}, month ${month} of ${year} has ${monthDays}`;
  if (hour > 23 || minute > 59 || second > 59) return 'has a time of day beyond 23:59:59';
  let offset = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 18 || om > 59) return `has offset ${m[8]}${m[9]}:${m[10]}`;
    offset = (m[8] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  // days stay exact in a double for every year Instant has (±1e9); seconds are counted in BigInt
  const seconds = BigInt(daysFromCivil(year, month, day)) * 86_400n + BigInt(hour * 3600 + minute * 60 + second - offset);
  const fraction = m[7] === undefined ? 0n : BigInt(m[7].padEnd(9, '0'));
  return seconds * NS_PER_S + fraction;
}

/** Why a device time is not used as the point's time. */
export type DeviceTimeProblem = 'future' | 'before_2000';

/**
 * `future` when `ns` is later than `nowMs` plus `maxFutureSkewMs`, `before_2000` when it is before
 * 2000-01-01 (a clock never set), else undefined: the time is used.
 */
export function deviceTimeProblem(ns: bigint, nowMs: number, maxFutureSkewMs: number): DeviceTimeProblem | undefined {
  if (ns < Y2000_NS) return 'before_2000';
  if (ns > BigInt(nowMs + maxFutureSkewMs) * 1_000_000n) return 'future';
  return undefined;
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTimeProblem, parseInstant, Y2000_NS } from '../../src/ingest/deviceTime.js';

const ns = (text: string): bigint => {
  const r = parseInstant(text);
  assert.equal(typeof r, 'bigint', `${text}: ${String(r)}`);
  return r as bigint;
};

describe('parseInstant', () => {
  it('agrees with Date.UTC to the ms over years 1900-2299 (a seeded sweep, leap days and month ends included)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const lo = Date.UTC(1900, 0, 1);
    const hi = Date.UTC(2299, 11, 31, 23, 59, 59, 999);
    const samples = [Date.UTC(2000, 1, 29), Date.UTC(2100, 1, 28, 23, 59, 59, 999), Date.UTC(2024, 11, 31, 23, 59, 59, 999), 0, -1];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(lo + random() * (hi - lo)));
    for (const ms of samples) {
      const text = new Date(ms).toISOString();
      assert.equal(ns(text), BigInt(ms) * 1_000_000n, text);
    }
  });

  it('keeps all 9 fractional digits exactly (a float would round them) and reads 1-8 digits as a decimal fraction', () => {
    assert.equal(ns('2026-11-29T04:00:00.123456789Z'), 1_795_924_800_123_456_789n);
    assert.equal(ns('2026-11-29T04:00:00.000000001Z'), 1_795_924_800_000_000_001n);
    assert.equal(ns('2026-11-29T04:00:00.5Z'), 1_795_924_800_500_000_000n);
    assert.equal(ns('2026-11-29T04:00:00.123456Z'), 1_795_924_800_123_456_000n);
    assert.equal(ns('2026-11-29T04:00:00Z'), 1_795_924_800_000_000_000n);
    assert.equal(ns('2026-11-29t04:00:00z'), 1_795_924_800_000_000_000n, 'RFC 3339 allows lower case');
  });

  it('applies an offset', () => {
    const utc = ns('2026-11-29T04:00:00.25Z');
    assert.equal(ns('2026-11-29T05:30:00.25+01:30'), utc);
    assert.equal(ns('2026-11-28T23:00:00.25-05:00'), utc);
    assert.equal(ns('2026-11-29T04:00:00.25+0000'), utc);
  });

  it("reads the years beyond 0000-9999 that Java's Instant writes (+10000, -0001), exactly", () => {
    assert.equal(ns('+10000-01-01T00:00:00Z'), 253_402_300_800n * 1_000_000_000n);
    assert.equal(ns('-0001-12-31T23:59:59.5Z'), (-62_167_219_200n - 1n) * 1_000_000_000n + 500_000_000n);
    // Instant.MAX: +1000000000-12-31T23:59:59.999999999Z = 31556889864403199 s
    assert.equal(ns('+1000000000-12-31T23:59:59.999999999Z'), 31_556_889_864_403_199n * 1_000_000_000n + 999_999_999n);
    assert.equal(typeof parseInstant('10000-01-01T00:00:00Z'), 'string', 'five digits need a sign');
  });

  it('refuses what is not an instant, saying why', () => {
    for (const [text, why] of [
      ['2026-11-29T04:00:00', /ISO-8601 instant/], // no zone: not an instant
      ['2026-11-29 04:00:00Z', /ISO-8601 instant/],
      ['2026-11-29T04:00:00.1234567890Z', /ISO-8601 instant/], // 10 digits
      ['1732550000123', /ISO-8601 instant/],
      ['', /ISO-8601 instant/],
      ['2026-13-01T00:00:00Z', /month 13/],
      ['2026-02-29T00:00:00Z', /day 29, month 2 of 2026 has 28/],
      ['2100-02-29T00:00:00Z', /has 28/],
      ['2026-04-31T00:00:00Z', /has 30/],
      ['2026-11-29T24:00:00Z', /time of day/],
      ['2026-12-31T23:59:60Z', /time of day/], // a leap second: Java's Instant has none
      ['2026-11-29T04:00:00+19:00', /offset/],
    ] as const) {
      const r = parseInstant(text);
      assert.equal(typeof r, 'string', `${text} is refused`);
      assert.match(r as string, why, text);
    }
    assert.equal(typeof parseInstant('2024-02-29T00:00:00Z'), 'bigint', 'a leap day is a day');
  });
});

describe('deviceTimeProblem', () => {
  const now = Date.UTC(2026, 10, 29, 4, 0, 0);
  it('uses a time from 2000 up to now plus the skew; later is future, earlier is before_2000', () => {
    assert.equal(deviceTimeProblem(Y2000_NS, now, 0), undefined);
    assert.equal(deviceTimeProblem(Y2000_NS - 1n, now, 0), 'before_2000');
    assert.equal(deviceTimeProblem(0n, now, 0), 'before_2000');
    assert.equal(deviceTimeProblem(-1n, now, 0), 'before_2000');
    const edge = BigInt(now + 300_000) * 1_000_000n;
    assert.equal(deviceTimeProblem(edge, now, 300_000), undefined);
    assert.equal(deviceTimeProblem(edge + 1n, now, 300_000), 'future');
    assert.equal(deviceTimeProblem(ns('9999-12-31T23:59:59.999999999Z'), now, 300_000), 'future');
  });
});

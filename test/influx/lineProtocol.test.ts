/**
 * What the real influxd 1.6 makes of the lines the daemon writes (the facts in docs/influx-line-protocol.md).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { request } from 'undici';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { dataLine, endpointTag } from '../../src/ingest/points.js';
import type { ResourceValue } from '../../src/lwm2m/node.js';
import { endpointNameProblem } from '../../src/lwm2m/endpointName.js';
import { encodeFrames } from '../../src/dataDir/frames.js';

const DB = 'lp';
const T0 = 1_700_000_000_000_000_000n;

/** Any JS string: arbitrary UTF-16 code units (lone surrogates included), and strings of the characters that matter. */
const anyString = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      '\\',
      '"',
      '\n',
      '\r',
      '\r\n',
      '\u0000',
      '\u0001',
      '\u001f',
      '\u007f',
      ' ',
      ',',
      '=',
      '#',
      '\t',
      '\ud800',
      '\udc00',
      'a',
    ),
    maxLength: 30,
  }),
);

/** What a string becomes in UTF-8 and back: lone surrogates as U+FFFD. */
const representable = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

async function post(influxd: Influxd, body: string): Promise<{ status: number; error: string }> {
  const res = await request(`${influxd.url}/write?db=${DB}&precision=ns`, { method: 'POST', body });
  const text = await res.body.text();
  return { status: res.statusCode, error: text };
}

describe('line protocol against a real influxd 1.6', () => {
  let influxd: Influxd;
  let run = 0;
  before(async () => {
    influxd = await startInfluxd();
    await influxd.query(`CREATE DATABASE ${DB}`);
  });
  after(async () => {
    await influxd.destroy();
  });

  it('takes any JS string as a STRING, CORELINK or OPAQUE value and gives it back exactly (lone surrogates as U+FFFD)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(anyString, fc.constantFrom('STRING' as const, 'CORELINK' as const, 'OPAQUE' as const)), {
          minLength: 1,
          maxLength: 40,
        }),
        async (values) => {
          const ep = `prop-${run++}`;
          const lines = values.map(([value, type], i) =>
            dataLine(
              endpointTag(ep),
              { objectId: 40000, instanceId: 0, resourceId: i, value: { type, value } } satisfies ResourceValue,
              String(T0 + BigInt(i)),
            ),
          );
          const { status, error } = await post(influxd, lines.join('\n'));
          assert.equal(status, 204, error);
          const r = await influxd.query(`SELECT "string", "res" FROM lwm2m WHERE ep = '${ep}'`, DB);
          const rows = (r.results[0]?.series?.[0]?.values ?? []) as [number, string, string][];
          assert.equal(rows.length, values.length, 'one point per value');
          for (const [, s, res] of rows) assert.equal(s, representable(values[Number(res)]![0]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('takes any endpoint name the shared rule admits as a tag value and gives it back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          anyString.filter((s) => endpointNameProblem(s) === undefined),
          { minLength: 1, maxLength: 30 },
        ),
        async (names) => {
          const measurement = `names${run++}`;
          const body = names.map((n, i) => `${measurement},ep=${endpointTag(n)} i=${i}i ${T0 + BigInt(i)}`).join('\n');
          const { status, error } = await post(influxd, body);
          assert.equal(status, 204, error);
          const r = await influxd.query(`SELECT "i", "ep" FROM ${measurement}`, DB);
          const rows = (r.results[0]?.series?.[0]?.values ?? []) as [number, number, string][];
          assert.deepEqual(
            rows.map(([, i, ep]) => [i, ep]).sort((a, b) => Number(a[0]) - Number(b[0])),
            names.map((n, i) => [i, representable(n)]),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a spool segment is line protocol InfluxDB takes as it is (its record headers are comments)', async () => {
    const values = ['plain', 'two\nlines', '# not a comment\n# either', '"quoted" \\'];
    const lines = values.map((value, i) =>
      dataLine(
        endpointTag('spooled'),
        { objectId: 3, instanceId: 0, resourceId: i, value: { type: 'STRING', value } } satisfies ResourceValue,
        String(T0 + BigInt(i)),
      ),
    );
    const { status, error } = await post(influxd, encodeFrames(lines).toString('utf8'));
    assert.equal(status, 204, error);
    const r = await influxd.query(`SELECT "string", "res" FROM lwm2m WHERE ep = 'spooled'`, DB);
    const rows = (r.results[0]?.series?.[0]?.values ?? []) as [number, string, string][];
    assert.deepEqual(
      rows.map(([, s, res]) => [Number(res), s]).sort(),
      values.map((v, i) => [i, v]),
    );
  });

  it('facts the writer relies on: a refused line is echoed in X-Influxdb-Error, control bytes and all, which undici cannot read', async () => {
    // a quoted field value may not end in an unescaped backslash
    const trailing = await post(influxd, 'f s="ends in \\" 1');
    assert.equal(trailing.status, 400);
    assert.match(trailing.error, /unbalanced quotes/);
    // a tag value may not end in a backslash: it escapes the space after it
    const tag = await post(influxd, 'f,t=ab\\ s="x" 1');
    assert.equal(tag.status, 400);
    assert.match(tag.error, /invalid tag format/);
    // the same refusal, with a control byte in the line: the answer cannot be read at all
    await assert.rejects(post(influxd, 'f,t=ab\\ s="\u0001" 1'), /Invalid header value char|HTTP\/1\.1 protocol/);
    // an open quote runs on into the next lines, which are refused with it; the lines before it are written (partial write)
    const open = await post(influxd, 'g s="ok" 1\ng s="open 2\ng s="swallowed" 3');
    assert.equal(open.status, 400);
    assert.match(
      (JSON.parse(open.error) as { error: string }).error,
      /^partial write: unable to parse 'g s="open 2\ng s="swallowed" 3': unbalanced quotes/,
    );
    const r = await influxd.query('SELECT count("s") FROM g', DB);
    assert.equal(r.results[0]?.series?.[0]?.values[0]?.[1], 1);
    // lines end in LF only: CRLF leaves a CR in the timestamp
    const crlf = await post(influxd, 'h s="x" 1\r\nh s="y" 2');
    assert.equal(crlf.status, 400);
    assert.match(crlf.error, /bad timestamp/);
  });
});

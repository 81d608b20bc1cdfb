import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';

const RESOURCE_TYPES = ['STRING', 'INTEGER', 'UNSIGNED_INTEGER', 'FLOAT', 'BOOLEAN', 'OPAQUE', 'TIME', 'OBJLNK', 'CORELINK', 'NONE'];
const KINDS = ['singleResource', 'multiResource', 'resourceInstance', 'instance', 'obj', 'root'];

const goodNode = { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '21.5' };
const goodSingle = { ep: 'dev', obj_id: 3303, val: goodNode };
const goodComposite = {
  ep: 'dev',
  val: { '/3303': { kind: 'obj', id: 3303, instances: [{ kind: 'instance', id: 0, resources: [goodNode] }] } },
};

const goodTimestamped = { ep: 'dev', val: [{ '2026-11-29T04:00:00.123456789Z': { nodes: { '/3303/0/5700': goodNode } } }] };
type Route = 'single' | 'composite' | 'timestamped';

const notAnInteger = fc.oneof(
  fc.string(),
  fc.double({ noInteger: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 2 }),
);
const badId = fc.oneof(notAnInteger, fc.integer({ max: -1 }), fc.integer({ min: 65536 }));
/** Nesting far deeper than any node may go, built as text (deep objects would strain the test itself). */
const deep = fc
  .integer({ min: 50, max: 5000 })
  .map(
    (n) =>
      `{"ep":"dev","obj_id":3303,"val":${'{"kind":"instance","id":0,"resources":['.repeat(n)}${JSON.stringify(goodNode)}${']}'.repeat(n)}}`,
  );

/** Bodies that are wrong for sure, each as [route, raw text]. */
const malformed: fc.Arbitrary<[Route, string]> = fc.oneof(
  // not JSON at all, or JSON cut short
  fc.tuple(
    fc.constantFrom<Route>('single', 'composite', 'timestamped'),
    fc.string().filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
  ),
  fc.tuple(fc.constantFrom<Route>('single', 'composite', 'timestamped'), fc.nat()).map(([r, n]) => {
    const text = JSON.stringify(r === 'single' ? goodSingle : r === 'composite' ? goodComposite : goodTimestamped);
    return [r, text.slice(0, n % text.length)] as [Route, string];
  }),
  // JSON, but not an object
  fc.tuple(
    fc.constantFrom<Route>('single', 'composite', 'timestamped'),
    fc.oneof(fc.array(fc.jsonValue()), fc.string(), fc.double(), fc.boolean(), fc.constant(null)).map((v) => JSON.stringify(v)),
  ),
  // a wrong ep
  fc
    .tuple(
      fc.constantFrom<Route>('single', 'composite', 'timestamped'),
      fc.oneof(
        fc.constant(undefined),
        fc.constant(''),
        fc.string({ minLength: 257 }),
        fc.integer(),
        fc.constant(null),
        fc.constant('a\nb'),
      ),
    )
    .map(([r, ep]) => {
      const body = { ...(r === 'single' ? goodSingle : r === 'composite' ? goodComposite : goodTimestamped), ep };
      return [r, JSON.stringify(body)] as [Route, string];
    }),
  // single: a wrong obj_id, kind, type, id or value
  badId.map((obj_id) => ['single', JSON.stringify({ ...goodSingle, obj_id })] as ['single', string]),
  fc
    .string()
    .filter((k) => !KINDS.includes(k))
    .map((kind) => ['single', JSON.stringify({ ...goodSingle, val: { ...goodNode, kind } })] as ['single', string]),
  fc
    .string()
    .filter((t) => !RESOURCE_TYPES.includes(t.toUpperCase()))
    .map((type) => ['single', JSON.stringify({ ...goodSingle, val: { ...goodNode, type } })] as ['single', string]),
  badId.map((id) => ['single', JSON.stringify({ ...goodSingle, val: { ...goodNode, id } })] as ['single', string]),
  fc
    .oneof(
      fc.string().map((s) => `x${s}`),
      fc.boolean(),
      fc.constant(null),
      fc.object(),
      fc.constant('NaN'),
      fc.constant('Infinity'),
    )
    .map((value) => ['single', JSON.stringify({ ...goodSingle, val: { ...goodNode, value } })] as ['single', string]),
  // BOOLEAN takes true/false, "true"/"false" in any case, "1"/"0" and 0/1: anything else is wrong
  fc
    .oneof(
      fc.integer().filter((n) => n !== 0 && n !== 1),
      fc.double().filter((x) => x !== 0 && x !== 1),
      fc.string({ minLength: 1 }).filter((s) => !['true', 'false', '1', '0'].includes(s.toLowerCase())),
    )
    .map(
      (value) =>
        ['single', JSON.stringify({ ...goodSingle, obj_id: 1, val: { kind: 'singleResource', id: 6, type: 'BOOLEAN', value } })] as [
          'single',
          string,
        ],
    ),
  // nesting far deeper than any node
  deep.map((text) => ['single', text] as ['single', string]),
  // composite: keys that are not paths, nodes that are not objects
  fc
    .string()
    .filter((k) => !/^\/?\d{1,5}(\/\d{1,5}){0,3}\/?$/.test(k) && !['kind', 'instances', 'resources', 'values', 'value'].includes(k))
    .map((key) => ['composite', JSON.stringify({ ep: 'dev', val: { [key]: goodComposite.val['/3303'] } })] as ['composite', string]),
  fc
    // (null is not here: a null node is a value the device left out, skipped and counted beside the others)
    .oneof(fc.string(), fc.integer(), fc.array(fc.jsonValue(), { maxLength: 3 }))
    .map((node) => ['composite', JSON.stringify({ ep: 'dev', val: { '/3303': node } })] as ['composite', string]),
  // timestamped: keys that are not instants, val not an array, entries of another shape
  fc
    .string()
    .filter((k) => k !== 'null' && !/^\d{4}-\d\d-\d\dT/i.test(k))
    .map(
      (key) => ['timestamped', JSON.stringify({ ep: 'dev', val: [{ [key]: { nodes: { '/3303/0/5700': goodNode } } }] })] as [Route, string],
    ),
  fc
    .tuple(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 13, max: 99 }))
    .map(
      ([y, m]) => ['timestamped', JSON.stringify({ ep: 'dev', val: [{ [`${y}-${m}-01T00:00:00Z`]: { nodes: {} } }] })] as [Route, string],
    ),
  fc
    .oneof(fc.object(), fc.string(), fc.integer(), fc.constant(null))
    .map((val) => ['timestamped', JSON.stringify({ ep: 'dev', val })] as [Route, string]),
  fc
    .oneof(
      fc.constant({}),
      fc.constant({ null: { nodes: {} }, '2026-11-29T04:00:00Z': { nodes: {} } }),
      fc
        .jsonValue()
        .map((nodes) => ({ null: Array.isArray(nodes) || typeof nodes !== 'object' || nodes === null ? { nodes } : { nodes: [nodes] } })),
      fc.jsonValue().filter((x) => typeof x !== 'object' || x === null || Array.isArray(x)),
    )
    .map((entry) => ['timestamped', JSON.stringify({ ep: 'dev', val: [entry] })] as [Route, string]),
);

describe('malformed Leshan posts (property-based)', () => {
  let d: DaemonProcess;
  before(async () => {
    d = await startDaemon();
  });
  after(async () => {
    await d.cleanup();
  });

  it('answers every one of 1 000 malformed bodies with a 4xx JSON error, and stays up', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(malformed, async ([route, text]) => {
        const res = await fetch(`${d.url}/leshan_api/resource/${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: text,
        });
        const body = (await res.json()) as { error?: { code?: string; message?: string } };
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        assert.ok(res.status >= 400 && res.status < 500, `${res.status} for ${text.slice(0, 200)}`);
        assert.equal(typeof body.error?.code, 'string');
        assert.ok((body.error?.message ?? '').length > 0);
      }),
      { numRuns: 1000 },
    );
    assert.ok((seen.get(400) ?? 0) > 900, JSON.stringify([...seen]));
    const good = await fetch(`${d.url}/leshan_api/resource/single`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(goodSingle),
    });
    assert.equal(good.status, 201, 'a good post still goes through');
    assert.equal(d.proc.exitCode, null, 'the daemon is still running');
    assert.ok(!d.lines.some((l) => l.level === 'error' || l.level === 'fatal'), 'no error was logged');
  });
});

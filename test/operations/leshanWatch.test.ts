import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LeshanWatch, type LeshanWatchOptions } from '../../src/operations/leshanWatch.js';

function watch(overrides: Partial<LeshanWatchOptions> & { answer: () => unknown[] }) {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  let now = 1_000_000;
  const w = new LeshanWatch({
    url: 'http://127.0.0.1:8080',
    listClients: async () => overrides.answer(),
    ingress: 'posts',
    postsAccepted: () => 0,
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    now: () => now,
    ...overrides,
  });
  return { w, lines, advance: (ms: number) => (now += ms) };
}

const refused = () => {
  throw new Error('Leshan unreachable: connect ECONNREFUSED 127.0.0.1:8080');
};

describe('LeshanWatch', () => {
  it('warns once when Leshan becomes unreachable, reminds every 5 min, warns when it is back; the check says degraded meanwhile', async () => {
    let answer: () => unknown[] = () => [];
    const { w, lines, advance } = watch({ answer: () => answer() });
    await w.probe();
    assert.equal(w.check().ok, true);
    answer = refused;
    await w.probe();
    advance(60_000);
    await w.probe();
    const check = w.check();
    assert.equal(check.ok, false);
    assert.equal(check.degraded, true);
    assert.match(String(check.error), /ECONNREFUSED/);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['Leshan unreachable: operations stay QUEUED until it answers (leshan.url)'],
    );
    assert.equal(lines[0]!.level, 'warn');
    advance(4 * 60_000);
    await w.probe();
    assert.equal(lines.at(-1)!.msg, 'Leshan still unreachable');
    answer = () => [{}, {}];
    advance(10_000);
    await w.probe();
    assert.equal(lines.at(-1)!.msg, 'Leshan reachable again: queued operations go out at the next wake');
    assert.equal(lines.at(-1)!.level, 'warn');
    assert.equal(lines.at(-1)!.obj.downForS, 310);
    assert.equal(w.check().ok, true);
    assert.equal(w.check().registeredClients, 2);
  });

  it('takes any answer as reachable: an error status or an oversized list is not a connection problem', async () => {
    const { w, lines } = watch({
      answer: () => {
        throw new Error('Leshan: GET /api/clients answered 500: boom');
      },
    });
    await w.probe();
    assert.equal(w.check().ok, true);
    assert.equal(lines.length, 0);
  });

  it('hints at a stock Leshan on ingress "posts": registered clients and no post for 2 min', async () => {
    let posts = 0;
    const { w, lines, advance } = watch({ answer: () => [{ endpoint: 'a' }], postsAccepted: () => posts });
    await w.probe();
    advance(119_000);
    await w.probe();
    assert.equal(lines.length, 0, 'not before 2 min');
    advance(1000);
    await w.probe();
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /posted nothing to \/leshan_api.*set leshan.ingress to "events"/);
    advance(60_000);
    await w.probe();
    assert.equal(lines.length, 1, 'not again before 30 min');

    const quiet = watch({ answer: () => [{ endpoint: 'a' }], postsAccepted: () => posts });
    posts = 1;
    await quiet.w.probe();
    quiet.advance(10 * 60_000);
    await quiet.w.probe();
    assert.equal(quiet.lines.length, 0, 'no hint once a post has arrived');
    const events = watch({ answer: () => [{ endpoint: 'a' }], ingress: 'events' });
    await events.w.probe();
    events.advance(10 * 60_000);
    await events.w.probe();
    assert.equal(events.lines.length, 0, 'no hint with the event stream');
  });
});

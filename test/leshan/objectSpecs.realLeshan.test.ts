/*
 * The objectspecs route of the real Leshan demo server (2.0.0-M4 from Maven Central, tools/realLeshan.ts) with a
 * real client (Leshan's M18 client library): the daemon's reader takes its whole answer, and the names it reports
 * are the generated registry's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectSpecs, parseObjectSpecs } from '../../src/leshan/objectSpecs.js';
import { resourceModel } from '../../src/lwm2m/objectModel.js';
import { ensureLeshan, startRealLeshanClient, startRealLeshanServer, type RealLeshanServer } from '../../tools/realLeshan.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

let leshan: RealLeshanServer;
const EP = 'specs-1';

before(
  async () => {
    ensureLeshan();
    leshan = await startRealLeshanServer();
    cleanups.push(() => leshan.stop());
    const client = await startRealLeshanClient(leshan, { endpoint: EP });
    cleanups.push(() => client.stop());
  },
  { timeout: 120_000 },
);

describe('objectspecs of the real Leshan demo server', () => {
  it('is read whole, with the names and types of the generated registry', async () => {
    const res = await fetch(`${leshan.url}/api/objectspecs/${EP}`);
    assert.equal(res.status, 200);
    const { models, refused } = parseObjectSpecs(await res.json());
    assert.equal(refused, 0);
    const ids = models.map((m) => m.id);
    for (const id of [1, 3, 3303]) assert.ok(ids.includes(id), `object ${id} in ${ids.join(',')}`);
    let compared = 0;
    for (const m of models) {
      for (const [rid, name, type, operations, multiple] of m.resources) {
        const ours = resourceModel(m.id, rid);
        // the registry keeps the newest version of each object; Leshan answers the client's (3 at 1.1, 5 at 1.0)
        if (ours === undefined) continue;
        assert.deepEqual([ours.name, ours.type, ours.operations, ours.multiple], [name, type, operations, multiple], `${m.id}/${rid}`);
        compared++;
      }
    }
    assert.ok(compared > 30, `${compared} resources compared`);
  });

  it('is asked by ObjectSpecs for an object without a model, and what it answers is taken', async () => {
    const specs = new ObjectSpecs({ url: leshan.url, deadlineMs: 10_000, maxResponseBytes: 1024 * 1024 });
    specs.registered(EP, [{ url: '/3/0' }, { url: '/33999/0' }]);
    await specs.idle();
    // the client has no object 33999: Leshan answers the models of the objects it has, all of them known already
    assert.deepEqual(specs.counts, { requests: 1, learned: 0, dropped: 0, failed: 0 });
  });
});

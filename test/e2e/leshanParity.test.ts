/**
 * The Leshan test double against a real Leshan on the newest milestone Maven Central has (this project's server on
 * Leshan 2.0.0-M18's library, with a real M18 client in queue mode): where both run, they must answer alike. The
 * case the daemon's delivery leans on most: a request for a sleeping client (the delayed 200 of Leshan >= M17, its
 * REQUEST_RESPONSE event once the client wakes, and the event order around the wake); and the registration JSON.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startOwnLeshanServer, type OwnLeshanServer } from '../../tools/ownLeshan.js';
import { freePort } from '../../tools/ports.js';
import { startRealLeshanClient, type RealLeshanClient } from '../../tools/realLeshan.js';
import { openSse, type Sse } from '../support/sse.js';
import { cleanupsAfterAll } from '../support/e2e.js';

const cleanup = cleanupsAfterAll();

let real: OwnLeshanServer;
let double: LeshanDouble;
let client: RealLeshanClient;
let realEvents: Sse;
let doubleEvents: Sse;
const EP = 'parity-1';

before(
  async () => {
    // nothing listens on the daemon URL: the posts are retried in the background and do not matter here
    real = await startOwnLeshanServer({ daemonUrl: `http://127.0.0.1:${await freePort()}`, awakeTimeSeconds: 2 });
    cleanup(() => real.stop());
    double = await startLeshanDouble({ mode: 'LM' });
    cleanup(() => double.close());
    realEvents = await openSse(real.url);
    doubleEvents = await openSse(double.url);
    cleanup(
      () => realEvents.close(),
      () => doubleEvents.close(),
    );
    client = await startRealLeshanClient(real, { endpoint: EP, queueMode: true, lifetime: 300 });
    cleanup(() => client.kill());
    double.register({ endpoint: EP, queueMode: true });
  },
  { timeout: 120_000 },
);

const put = (base: string, path: string, body: unknown) =>
  fetch(`${base}/api/clients/${EP}${path}?timeout=5`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));

describe('the Leshan double and a real Leshan (M18 library) answer alike', () => {
  it('list a queue-mode registration with the same fields in the same order', async () => {
    const [fromReal] = (await real.clients()).filter((c) => c.endpoint === EP);
    const [fromDouble] = (await (await fetch(`${double.url}/api/clients`)).json()) as Record<string, unknown>[];
    assert.ok(fromReal && fromDouble);
    assert.deepEqual(Object.keys(fromDouble), Object.keys(fromReal));
    assert.equal(fromDouble.queuemode, fromReal.queuemode);
    assert.equal(typeof fromReal.registrationDate, typeof fromDouble.registrationDate);
  });

  it(
    'a request for a sleeping client: the same delayed 200, then the same REQUEST_RESPONSE after the same events at its wake',
    { timeout: 60_000 },
    async () => {
      await realEvents.waitFor('SLEEPING', (e) => e.ep === EP, 20_000);
      double.sleep(EP);
      const body = { id: 1, kind: 'singleResource', type: 'INTEGER', value: 120 };
      const [fromReal, fromDouble] = await Promise.all([put(real.url, '/1/0/1', body), put(double.url, '/1/0/1', body)]);
      assert.equal(fromReal.status, 200);
      assert.equal(fromDouble.status, fromReal.status);
      assert.deepEqual(Object.keys(fromDouble.json), Object.keys(fromReal.json));
      assert.equal(fromReal.json.delayed, true);
      assert.equal(fromReal.json.path, '/1/0/1');
      assert.equal(fromDouble.json.path, fromReal.json.path);

      const before = { real: realEvents.events.length, double: doubleEvents.events.length };
      await client.update();
      double.update(EP);
      const realResponse = await realEvents.waitFor('REQUEST_RESPONSE', (e) => e.ep === EP, 20_000);
      const doubleResponse = await doubleEvents.waitFor('REQUEST_RESPONSE', (e) => e.ep === EP, 5000);
      const realData = JSON.parse(realResponse.data) as Record<string, unknown>;
      const doubleData = JSON.parse(doubleResponse.data) as Record<string, unknown>;
      assert.deepEqual(Object.keys(doubleData), Object.keys(realData));
      assert.equal(realData.requestId, fromReal.json.requestId, 'the event names the request the delayed answer gave');
      assert.deepEqual(doubleData.response, realData.response, 'the device answer, as Leshan writes it');
      const wake = (s: Sse, from: number) =>
        s.events
          .slice(from)
          .filter((e) => e.data.includes(`"${EP}"`))
          .map((e) => e.event);
      assert.deepEqual(wake(doubleEvents, before.double), wake(realEvents, before.real));
    },
  );

  it(
    'a request for a sleeping client refused as Leshan before M17 refuses it (--delayed-requests false): the same 400 text',
    { timeout: 60_000 },
    async () => {
      const refusing = await startOwnLeshanServer({
        daemonUrl: `http://127.0.0.1:${await freePort()}`,
        awakeTimeSeconds: 1,
        delayedRequests: false,
      });
      cleanup(() => refusing.stop());
      const l15 = await startLeshanDouble({ mode: 'L15' });
      cleanup(() => l15.close());
      const events = await openSse(refusing.url);
      cleanup(() => events.close());
      const sleepy = await startRealLeshanClient(refusing, { endpoint: EP, queueMode: true, lifetime: 300 });
      cleanup(() => sleepy.kill());
      await events.waitFor('SLEEPING', (e) => e.ep === EP, 20_000);
      l15.register({ endpoint: EP, queueMode: true });
      l15.sleep(EP);
      const body = { id: 1, kind: 'singleResource', type: 'INTEGER', value: 120 };
      const answer = (base: string) =>
        fetch(`${base}/api/clients/${EP}/1/0/1`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then(async (r) => [r.status, await r.text()] as const);
      const [fromReal, fromDouble] = await Promise.all([answer(refusing.url), answer(l15.url)]);
      assert.equal(fromReal[0], 400);
      assert.deepEqual(fromDouble, fromReal);
    },
  );
});

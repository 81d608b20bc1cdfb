/**
 * A firmware campaign over a small fleet of simulated devices (daemon in-process, Leshan double): each
 * device downloads once its URI is written (notifies Downloaded), reboots once executed (registers again
 * with the new version in 3/0/3). The campaign never has more than maxConcurrent updates RUNNING.
 * (The 1 000-device figure is the bench's: bench/firmware.bench.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator, postRegistration } from '../support/fleet.js';
import { Controller } from '../../src/controller.js';
import { testLogger } from '../support/config.js';

const DEVICES = 20;
const MAX_CONCURRENT = 5;

describe('firmware campaign (daemon in-process, Leshan double, simulated devices)', () => {
  let leshan: LeshanDouble;
  let d: RunningController;
  let api: ReturnType<typeof operator>;

  before(async () => {
    leshan = await startLeshanDouble({ timeScale: 0.02 });
    d = await startController({ leshan: { url: leshan.url, requestTimeoutS: 5 }, influx: { url: 'http://127.0.0.1:9' } });
    api = operator(d);
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
  });

  it(`updates ${DEVICES} devices matched by prefix, never more than ${MAX_CONCURRENT} at once, all SUCCEEDED`, async () => {
    const eps = Array.from({ length: DEVICES }, (_, i) => `camp-${String(i).padStart(2, '0')}`);
    const register = async (ep: string) => {
      leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });
      await postRegistration(d, ep, 'registered');
    };
    for (const ep of eps) await register(ep);
    // a device not of the campaign, with an update of its own running: not matched, untouched
    await register('other-1');

    const created = await api.call('POST', '/api/firmware/campaigns', {
      uri: 'coaps://fw.example/v2.bin',
      version: '2.0',
      match: 'camp-*',
      maxConcurrent: MAX_CONCURRENT,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.endpoints, eps);
    const id = created.body.id as string;

    // the devices: download once the URI is written, reboot into 2.0 once the execute is confirmed
    const notified = new Set<string>();
    const rebooted = new Set<string>();
    let maxRunning = 0;
    const tick = async () => {
      const updates = (await api.call('GET', '/api/firmware?limit=1000')).body.items.filter((u: any) => u.campaignId === id);
      maxRunning = Math.max(maxRunning, updates.filter((u: any) => u.status === 'RUNNING').length);
      for (const u of updates) {
        if (u.status !== 'RUNNING') continue;
        if (u.step === 'downloading' && !notified.has(u.ep)) {
          notified.add(u.ep);
          await d.post('/leshan_api/resource/single', {
            ep: u.ep,
            obj_id: 5,
            val: { kind: 'singleResource', id: 3, type: 'INTEGER', value: 2 },
          });
        }
        if (u.step === 'updating' && !rebooted.has(u.ep)) {
          const ops = (await api.call('GET', `/api/operations?ep=${u.ep}&status=CONFIRMED`)).body.items as any[];
          if (!ops.some((o) => o.path === '/5/0/2')) continue;
          rebooted.add(u.ep);
          leshan.answer(u.ep, '/3/0/3', { kind: 'success', content: { kind: 'singleResource', id: 3, type: 'STRING', value: '2.0' } });
          await register(u.ep);
        }
      }
      return (await api.call('GET', `/api/firmware/campaigns/${id}`)).body.done === true;
    };
    await until(tick, 60_000, 'campaign done');

    const campaign = (await api.call('GET', `/api/firmware/campaigns/${id}`)).body;
    assert.deepEqual(campaign.counts, { RUNNING: 0, SUCCEEDED: DEVICES, FAILED: 0, CANCELLED: 0, WAITING: 0, SKIPPED: 0 });
    assert.ok(maxRunning <= MAX_CONCURRENT, `at most ${MAX_CONCURRENT} RUNNING at once, seen ${maxRunning}`);
    assert.equal(maxRunning, MAX_CONCURRENT, 'the slots were used');
    assert.equal((await api.call('GET', '/api/firmware?ep=other-1')).body.items.length, 0);
  });

  it('a device with an update of its own running is skipped, named with that update; the campaign is done (nothing to cancel)', async () => {
    leshan.register({ endpoint: 'busy-1', queueMode: true, objectLinks: ['/3/0', '/5/0'] });
    await postRegistration(d, 'busy-1', 'registered');
    const own = await api.call('POST', '/api/endpoints/busy-1/firmware', { uri: 'coap://fw.example/a.bin', version: '9' });
    const created = await api.call('POST', '/api/firmware/campaigns', {
      uri: 'coap://fw.example/b.bin',
      version: '10',
      endpoints: ['busy-1'],
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.skipped, [{ ep: 'busy-1', runningId: own.body.id }]);
    assert.equal(created.body.counts.SKIPPED, 1);
    assert.equal(created.body.done, true);
    const cancel = await api.call('DELETE', `/api/firmware/campaigns/${created.body.id}`);
    assert.equal(cancel.status, 409, 'a campaign that is done has nothing to cancel');
    assert.match(cancel.body.error.message, /is done/);
    const bad = await api.call('POST', '/api/firmware/campaigns', { uri: 'coap://x/y', version: '1', endpoints: ['a'], match: 'a*' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'endpoints');
  });

  // last: it stops this daemon (the restarted one takes its port and data)
  it('starts nothing more, cancels its RUNNING updates, survives a restart, and refuses a second cancel', { timeout: 60_000 }, async () => {
    const eps = ['stop-1', 'stop-2', 'stop-3', 'stop-4'];
    for (const ep of eps) {
      leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });
      await postRegistration(d, ep, 'registered');
    }
    const created = await api.call('POST', '/api/firmware/campaigns', {
      uri: 'coap://fw.example/bad.bin',
      version: '6',
      endpoints: eps,
      maxConcurrent: 2,
    });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.deepEqual(created.body.counts, { RUNNING: 2, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0, WAITING: 2, SKIPPED: 0 });

    const cancelled = await api.call('DELETE', `/api/firmware/campaigns/${id}`);
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.match(cancelled.body.cancelledAt, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(cancelled.body.counts, { RUNNING: 0, SUCCEEDED: 0, FAILED: 0, CANCELLED: 2, WAITING: 2, SKIPPED: 0 });
    assert.equal(cancelled.body.done, true);
    const started = (await api.call('GET', '/api/firmware?limit=100')).body.items.filter((u: any) => u.campaignId === id);
    assert.deepEqual(
      started.map((u: any) => `${u.ep} ${u.status}`),
      ['stop-1 CANCELLED', 'stop-2 CANCELLED'],
      'the two waiting devices were never started',
    );

    const again = await api.call('DELETE', `/api/firmware/campaigns/${id}`);
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /cancelled already/);
    assert.equal((await api.call('DELETE', '/api/firmware/campaigns/999')).status, 404);

    // the cancel is stored: a restart starts none of the waiting devices
    const restarted = new Controller(d.config, testLogger());
    await d.controller.stop();
    await restarted.start();
    try {
      const after = await api.call('GET', `/api/firmware/campaigns/${id}`);
      assert.equal(after.body.cancelledAt, cancelled.body.cancelledAt);
      assert.equal(after.body.counts.RUNNING, 0);
      assert.equal((await api.call('GET', '/api/firmware?limit=100')).body.items.filter((u: any) => u.campaignId === id).length, 2);
    } finally {
      await restarted.stop();
    }
  });
});

/**
 * Firmware updates end to end in the daemon (in-process) against the Leshan test double: a queue-mode
 * device that wakes now and then (registration updates), answers reads as scripted, notifies through
 * the forked Leshan's posts and registers again after its reboot.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator, postRegistration, updateDevice } from '../support/fleet.js';
import { Controller } from '../../src/controller.js';
import { testLogger } from '../support/config.js';

const int = (id: number, value: number) => ({ kind: 'singleResource', id, type: 'INTEGER', value });
const str = (id: number, value: string) => ({ kind: 'singleResource', id, type: 'STRING', value });

describe('firmware updates through the operation queue (daemon in-process, Leshan double)', () => {
  let leshan: LeshanDouble;
  let d: RunningController;
  let api: ReturnType<typeof operator>;
  let n = 0;
  let ep = '';
  /** A daemon started again in a test (stopped at the end, before the first one's data directory goes). */
  let restarted: Controller | undefined;

  const update = async (id: string) => (await api.call('GET', `/api/firmware/${id}`)).body;
  const settled = async (id: string, statuses = ['SUCCEEDED', 'FAILED', 'CANCELLED']) => {
    let u: any;
    await until(async () => statuses.includes((u = await update(id)).status), 10_000, `firmware update ${id} ended`);
    return u;
  };
  const atStep = (id: string, step: string) => until(async () => (await update(id)).step === step, 10_000, `update ${id} at ${step}`);
  /** Requests that reached the device, as "METHOD /path". */
  const sent = (path?: string) =>
    leshan.requests
      .filter((r) => r.ep === ep && r.delivered && r.lwm2mPath !== undefined && (path === undefined || r.lwm2mPath === path))
      .map((r) => `${r.method} ${r.lwm2mPath}`);
  /** A notification as the forked Leshan posts it (instance 0). */
  const notify = async (objectId: number, node: unknown) => {
    const r = await d.post('/leshan_api/resource/single', { ep, obj_id: objectId, val: node });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  };
  /** The execute of 5/0/2 reached the device and its outcome is recorded. */
  const executed = () =>
    until(
      async () =>
        ((await api.call('GET', `/api/operations?ep=${ep}&status=CONFIRMED`)).body.items as any[]).some((o) => o.path === '/5/0/2'),
      10_000,
      'execute confirmed',
    );
  const register = async () => {
    leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/1/0', '/3/0', '/5/0'] });
    await postRegistration(d, ep, 'registered');
  };
  /** Started, observed and the URI written: the device is downloading. */
  const downloading = async (version = '2.0') => {
    await register();
    const r = await api.call('POST', `/api/endpoints/${ep}/firmware`, { uri: 'coap://fw.example/pkg.bin', version });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await atStep(r.body.id, 'downloading');
    return r.body.id as string;
  };
  /** Downloaded (notified), executed, and the device registers after its reboot with `version`. */
  const rebootWith = async (id: string, version: string) => {
    leshan.answer(ep, '/3/0/3', { kind: 'success', content: str(3, version) });
    await notify(5, int(3, 2));
    await executed();
    await register();
  };

  before(async () => {
    leshan = await startLeshanDouble({ timeScale: 0.02 });
    d = await startController({ leshan: { url: leshan.url, requestTimeoutS: 5 }, influx: { url: 'http://127.0.0.1:9' } });
    api = operator(d);
  });
  after(async () => {
    await restarted?.stop();
    await d?.stop();
    await leshan?.close();
  });
  beforeEach(() => {
    ep = `fw-${++n}`;
  });

  it('succeeds across several sleep cycles: 5/0/3 read at each wake until Downloaded, 3/0/3 read after the reboot', async () => {
    await register();
    const created = await api.call('POST', `/api/endpoints/${ep}/firmware`, { uri: 'coap://fw.example/pkg.bin', version: '2.0' });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `/api/firmware/${created.body.id}`);
    assert.deepEqual(Object.keys(created.body).sort(), [
      'attempts',
      'createdAt',
      'ep',
      'id',
      'status',
      'step',
      'timeoutAt',
      'updatedAt',
      'uri',
      'version',
    ]);
    assert.equal(created.body.status, 'RUNNING');
    const id = created.body.id as string;
    await atStep(id, 'downloading');
    assert.deepEqual(sent(), ['POST /5/0/3', 'POST /5/0/5', 'PUT /5/0/1']);
    const write = leshan.requests.find((r) => r.ep === ep && r.lwm2mPath === '/5/0/1')!;
    assert.deepEqual(write.json, { id: 1, kind: 'singleResource', type: 'STRING', value: 'coap://fw.example/pkg.bin' });

    leshan.sleep(ep);
    leshan.answer(ep, '/5/0/3', { kind: 'success', content: int(3, 1) }, { kind: 'success', content: int(3, 2) });
    await updateDevice(d, leshan, ep); // wake 1: still downloading
    await until(() => sent('/5/0/3').length === 2, 10_000, 'first read of 5/0/3');
    assert.equal((await update(id)).step, 'downloading');
    leshan.sleep(ep);
    await updateDevice(d, leshan, ep); // wake 2: downloaded
    leshan.answer(ep, '/3/0/3', { kind: 'success', content: str(3, '2.0') });
    await executed();
    await register();
    const done = await settled(id);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done));
    assert.equal(done.step, 'verifying');
    assert.equal(done.attempts, 1);
    assert.equal(done.result, undefined);

    // every device request was an ordinary operation, named after its update
    const ops = (await api.call('GET', `/api/operations?ep=${ep}`)).body.items as any[];
    const mine = ops.filter((o) => String(o.idempotencyKey).startsWith(`firmware:${id}:`));
    assert.deepEqual(
      mine.map((o) => `${o.kind} ${o.path} ${o.status}`),
      [
        'observe /5/0/3 CONFIRMED',
        'observe /5/0/5 CONFIRMED',
        'write /5/0/1 CONFIRMED',
        'read /5/0/3 CONFIRMED', // wake 1
        'read /5/0/3 CONFIRMED', // wake 2
        'execute /5/0/2 CONFIRMED',
        'observe /5/0/3 CONFIRMED', // observations re-made after the new registration
        'observe /5/0/5 CONFIRMED',
        'read /3/0/3 CONFIRMED',
      ],
    );
    const listed = (await api.call('GET', `/api/firmware?ep=${ep}&status=SUCCEEDED`)).body;
    assert.deepEqual(
      listed.items.map((u: any) => u.id),
      [id],
    );
    assert.deepEqual(
      (await api.call('GET', `/api/endpoints/${ep}/firmware`)).body.items.map((u: any) => u.id),
      [id],
    );
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /^lwm2m_backend_firmware_updates\{status="SUCCEEDED"\} [1-9]/m);
    assert.match(metrics, /^lwm2m_backend_firmware_steps_total\{step="verifying",status="SUCCEEDED"\} [1-9]/m);
  });

  it('a download failure reported by notification is FAILED with the result in words', async () => {
    const id = await downloading();
    await notify(5, int(5, 9));
    const done = await settled(id);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.result, 'unsupported protocol (5/0/5 = 9)');
  });

  it('an integrity failure writes the URI again; the retry succeeds', async () => {
    const id = await downloading();
    await notify(5, int(5, 5));
    await until(() => sent('/5/0/1').length === 2, 10_000, 'second write of 5/0/1');
    await atStep(id, 'downloading');
    assert.equal((await update(id)).attempts, 2);
    await rebootWith(id, '2.0');
    const done = await settled(id);
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done));
    assert.equal(done.attempts, 2);
  });

  it('a reboot that wipes 5/0/x succeeds through 3/0/3 alone', async () => {
    const id = await downloading();
    leshan.answer(ep, '/3/0/3', { kind: 'success', content: str(3, '2.0') });
    await notify(5, int(3, 2));
    await executed();
    await notify(5, int(3, 0));
    await notify(5, int(5, 0));
    await register();
    assert.equal((await settled(id)).status, 'SUCCEEDED');
  });

  it('the old version after the reboot is FAILED', async () => {
    const id = await downloading();
    await rebootWith(id, '1.0');
    const done = await settled(id);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.result, 'version not changed: the device reports "1.0" in 3/0/3, expected "2.0"');
  });

  it('one update at a time per endpoint (409 naming the running one), Idempotency-Key replays, bad input is 400', async () => {
    await register();
    const path = `/api/endpoints/${ep}/firmware`;
    const first = await api.call('POST', path, { uri: 'https://fw.example/a.bin', version: '3' }, { 'idempotency-key': 'k1' });
    assert.equal(first.status, 201);
    const again = await api.call('POST', path, { uri: 'https://fw.example/a.bin', version: '3' }, { 'idempotency-key': 'k1' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const other = await api.call('POST', path, { uri: 'https://fw.example/b.bin', version: '4' });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.details.runningId, first.body.id);
    assert.match(other.body.error.message, new RegExp(`firmware update ${first.body.id} is running`));
    const reused = await api.call('POST', path, { uri: 'https://fw.example/b.bin', version: '4' }, { 'idempotency-key': 'k1' });
    assert.equal(reused.status, 422);

    const bad = await api.call('POST', path, { uri: 'ftp://x/y', version: '1' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, 'uri');
    assert.equal((await api.call('POST', path, { uri: 'coap://x/y' })).body.error.details.field, 'version');
    assert.equal((await api.call('POST', path, { uri: 'coap://x/y', version: '1', extra: 1 })).body.error.details.field, 'extra');
    assert.equal((await api.call('POST', `/api/endpoints/nobody-${ep}/firmware`, { uri: 'coap://x/y', version: '1' })).status, 404);
    assert.equal((await api.call('GET', '/api/firmware/999999')).status, 404);
    assert.equal((await api.call('GET', '/api/firmware?status=DONE')).status, 400);
    assert.equal((await api.call('DELETE', `/api/firmware/${first.body.id}`)).body.status, 'CANCELLED');
    assert.equal((await api.call('DELETE', `/api/firmware/${first.body.id}`)).status, 409);
  });

  it('cancel while downloading: CANCELLED at once, an empty 5/0/1 written at the next wake', async () => {
    const id = await downloading();
    leshan.sleep(ep);
    const r = await api.call('DELETE', `/api/firmware/${id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'CANCELLED');
    assert.equal(r.body.step, 'downloading');
    assert.equal(sent('/5/0/1').length, 1, 'nothing sent to a sleeping device');
    await updateDevice(d, leshan, ep);
    await until(() => sent('/5/0/1').length === 2, 10_000, 'the URI cleared');
    const clear = leshan.requests.filter((x) => x.ep === ep && x.lwm2mPath === '/5/0/1').at(-1)!;
    assert.deepEqual(clear.json, { id: 1, kind: 'singleResource', type: 'STRING', value: '' });
    await notify(5, int(3, 2));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sent('/5/0/2').length, 0, 'a cancelled update executes nothing');
  });

  it('cancel before the URI went out (device asleep): the queued write is cancelled, nothing reaches the device', async () => {
    leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });
    await postRegistration(d, ep, 'registered');
    leshan.sleep(ep);
    await postRegistration(d, ep, 'deregistered');
    const r = await api.call('POST', `/api/endpoints/${ep}/firmware`, { uri: 'coap://fw.example/pkg.bin', version: '2.0' });
    const id = r.body.id as string;
    const cancelled = await api.call('DELETE', `/api/firmware/${id}`);
    assert.equal(cancelled.body.status, 'CANCELLED');
    assert.equal(cancelled.body.step, 'observing');
    const ops = (await api.call('GET', `/api/operations?ep=${ep}`)).body.items as any[];
    assert.ok(ops.length >= 1);
    await until(async () => ((await api.call('GET', `/api/operations?ep=${ep}&status=QUEUED`)).body.items as any[]).length === 0);
    assert.equal(sent().length, 0);
  });

  it('a daemon restart resumes the update at its step', async () => {
    const id = await downloading();
    await d.controller.stop();
    restarted = new Controller(d.config, testLogger());
    await restarted.start();
    api = operator(d);
    const resumed = await update(id);
    assert.equal(resumed.status, 'RUNNING');
    assert.equal(resumed.step, 'downloading');
    // the new daemon hears of the device at its next wake, and reads 5/0/3 then
    leshan.answer(ep, '/5/0/3', { kind: 'success', content: int(3, 2) });
    leshan.answer(ep, '/3/0/3', { kind: 'success', content: str(3, '2.0') });
    await updateDevice(d, leshan, ep);
    await executed();
    await register();
    assert.equal((await settled(id)).status, 'SUCCEEDED');
    assert.equal(sent('/5/0/1').length, 1, 'the URI was not written again');
  });
});

describe('firmware update timeout (daemon in-process, Leshan double)', () => {
  let leshan: LeshanDouble;
  let d: RunningController;

  before(async () => {
    leshan = await startLeshanDouble({ timeScale: 0.02 });
    d = await startController({
      leshan: { url: leshan.url, requestTimeoutS: 5 },
      influx: { url: 'http://127.0.0.1:9' },
      firmware: { timeoutMs: 3000, maxRetries: 2 },
    });
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
  });

  it('a device that never reports Downloaded: FAILED at timeoutAt, the URI cleared at its next wake', async () => {
    const api = operator(d);
    leshan.register({ endpoint: 'slow-1', queueMode: true, objectLinks: ['/3/0', '/5/0'] });
    await postRegistration(d, 'slow-1', 'registered');
    const r = await api.call('POST', '/api/endpoints/slow-1/firmware', { uri: 'coap://fw.example/pkg.bin', version: '2.0' });
    assert.equal(Date.parse(r.body.timeoutAt) - Date.parse(r.body.createdAt), 3000);
    await until(async () => (await api.call('GET', `/api/firmware/${r.body.id}`)).body.step === 'downloading', 3000, 'downloading');
    leshan.sleep('slow-1');
    let u: any;
    await until(async () => (u = (await api.call('GET', `/api/firmware/${r.body.id}`)).body).status === 'FAILED', 10_000, 'timed out');
    assert.match(u.result, /^timed out in step downloading/);
    await updateDevice(d, leshan, 'slow-1');
    await until(() => leshan.requests.filter((x) => x.ep === 'slow-1' && x.lwm2mPath === '/5/0/1' && x.delivered).length === 2);
    const cleared = leshan.requests.filter((x) => x.ep === 'slow-1' && x.lwm2mPath === '/5/0/1').at(-1)!;
    assert.equal((cleared.json as any).value, '');
  });
});

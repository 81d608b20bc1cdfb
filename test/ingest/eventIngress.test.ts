import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator } from '../support/fleet.js';
import type { Operation } from '../../src/operations/operation.js';

const temp = (value: string) => ({ id: 5700, kind: 'singleResource', type: 'FLOAT', value });

describe("Leshan's event stream as the ingress (stock Leshan: ingress 'events')", () => {
  let influxd: Influxd;
  let leshan: LeshanDouble;
  let d: RunningController;
  let api: ReturnType<typeof operator>;
  const rows = (q: string) => influxd.queryCsv(q, 'events');
  const view = async (ep: string) =>
    (await api.call('GET', `/api/endpoints/${ep}`)).body as { state: string; registered: boolean; queueMode: boolean };
  const opOf = async (id: string) => (await api.get(id)).body as Operation;

  before(async () => {
    influxd = await startInfluxd();
    leshan = await startLeshanDouble({ heartbeatMs: 100, timeScale: 0.02 });
    d = await startController({
      leshan: { url: leshan.url, ingress: 'events', heartbeatTimeoutMs: 1000 },
      influx: { url: influxd.url, database: 'events', flushIntervalMs: 20, connectIntervalMs: 100 },
      operations: { standingObservations: [{ path: '/3303/0/5700' }] },
    });
    api = operator(d);
    await until(() => leshan.streamCount() === 1, 5000, 'the daemon follows the event stream');
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
    await influxd?.destroy();
  });

  it('records registrations and notifications (single, composite, SEND) in InfluxDB', async () => {
    // the standing observation of /3303/0/5700 is answered with 20.5; its content lands as the first reading
    leshan.answer('ev-1', '/3303/0/5700', { kind: 'success', content: temp('20.5') });
    leshan.register({ endpoint: 'ev-1', queueMode: true, objectLinks: ['/3/0', '/3303/0'] });
    await until(async () => (await rows(`SELECT * FROM registration WHERE ep='ev-1'`)).length === 1);
    assert.notEqual((await view('ev-1')).state, 'offline');
    await until(async () => (await rows(`SELECT "float" FROM lwm2m WHERE ep='ev-1' AND obj='3303'`)).length === 1);
    leshan.notify('ev-1', '/3303/0/5700', temp('21.5'));
    leshan.notifyComposite('ev-1', {
      '/3303/0/5700': temp('22.5'),
      '/3/0/9': { id: 9, kind: 'singleResource', type: 'INTEGER', value: '87' },
    });
    leshan.emit('SEND', { ep: 'ev-1', val: { '/3303/0/5700': temp('23.5') } });
    await until(async () => (await rows(`SELECT "float" FROM lwm2m WHERE ep='ev-1' AND obj='3303'`)).length === 4);
    assert.deepEqual(
      (await rows(`SELECT "float" FROM lwm2m WHERE ep='ev-1' AND obj='3303'`)).map((r) => r.float),
      ['20.5', '21.5', '22.5', '23.5'],
    );
    assert.deepEqual(
      (await rows(`SELECT "int" FROM lwm2m WHERE ep='ev-1' AND obj='3'`)).map((r) => r.int),
      ['87'],
    );
    leshan.update('ev-1');
    leshan.deregister('ev-1');
    await until(async () => (await rows(`SELECT * FROM registration WHERE ep='ev-1'`)).length === 3);
    assert.deepEqual(
      (await rows(`SELECT "event", registration_time FROM registration WHERE ep='ev-1'`)).map((r) => r.event),
      ['registered', 'updated', 'deregistered'],
    );
    assert.equal((await view('ev-1')).registered, false);
  });

  it('delivers on AWAKE and UPDATED, and stops on SLEEPING', async () => {
    leshan.register({ endpoint: 'ev-2', queueMode: true, objectLinks: ['/3/0'] });
    await until(async () => (await view('ev-2').catch(() => ({ state: '' }))).state === 'online');
    leshan.sleep('ev-2');
    await until(async () => (await view('ev-2')).state === 'offline');
    const op = (await api.queue('ev-2', { kind: 'write', path: '/1/0/1', value: 60 })).body as Operation;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await opOf(op.id)).status, 'QUEUED', 'asleep: nothing sent');
    leshan.wake('ev-2');
    await until(async () => (await opOf(op.id)).status === 'CONFIRMED');
    leshan.sleep('ev-2');
    await until(async () => (await view('ev-2')).state === 'offline');
    const second = (await api.queue('ev-2', { kind: 'execute', path: '/3/0/4' })).body as Operation;
    leshan.update('ev-2');
    await until(async () => (await opOf(second.id)).status === 'CONFIRMED');
  });

  it('refuses posts with 409 when the ingress is the event stream', async () => {
    const r = await d.post('/leshan_api/resource/single', { ep: 'x', obj_id: 3303, val: temp('1') });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'ingress_disabled');
  });

  it('catches up after the stream broke: an update missed meanwhile still wakes the queue', async () => {
    leshan.register({ endpoint: 'ev-3', queueMode: true, objectLinks: ['/3/0'] });
    await until(async () => (await view('ev-3').catch(() => ({ state: '' }))).state === 'online');
    leshan.sleep('ev-3');
    await until(async () => (await view('ev-3')).state === 'offline');
    const op = (await api.queue('ev-3', { kind: 'write', path: '/1/0/1', value: 90 })).body as Operation;
    await leshan.setDown(true);
    leshan.update('ev-3'); // no stream: the daemon cannot hear it
    leshan.register({ endpoint: 'ev-3b', queueMode: true });
    await leshan.setDown(false);
    await until(async () => (await opOf(op.id)).status === 'CONFIRMED', 15_000, 'delivered after reconciling');
    assert.equal((await view('ev-3b')).registered, true, 'a registration missed meanwhile is known too');
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    assert.match(metrics, /lwm2m_backend_leshan_stream_reconnects_total [1-9]/);
    assert.match(metrics, /lwm2m_backend_leshan_stream_down_seconds_total 0\.[0-9]*[1-9]/);
  });

  it('sends at once to a device without queue mode, for as long as it is registered', async () => {
    leshan.register({ endpoint: 'ev-always', queueMode: false, objectLinks: ['/3/0'] });
    await until(async () => (await view('ev-always').catch(() => ({ queueMode: true }))).queueMode === false);
    const op = (await api.queue('ev-always', { kind: 'read', path: '/3/0/0' })).body as Operation;
    await until(async () => (await opOf(op.id)).status === 'CONFIRMED');
  });

  it('queues the standing observations again after each registration, where the device has the object', async () => {
    leshan.register({ endpoint: 'ev-obs', queueMode: true, objectLinks: ['/3/0', '/3303/0'] });
    leshan.register({ endpoint: 'ev-noobj', queueMode: true, objectLinks: ['/3/0'] });
    const observes = async (ep: string) =>
      ((await api.call('GET', `/api/endpoints/${ep}/operations`)).body.items as Operation[]).filter((o) => o.kind === 'observe');
    await until(async () => (await observes('ev-obs')).some((o) => o.status === 'CONFIRMED'));
    assert.equal((await observes('ev-obs'))[0]!.path, '/3303/0/5700');
    assert.deepEqual(leshan.observations('ev-obs'), ['/3303/0/5700']);
    leshan.register({ endpoint: 'ev-obs', queueMode: true, objectLinks: ['/3/0', '/3303/0'] }); // registers again: Leshan forgot
    await until(async () => (await observes('ev-obs')).filter((o) => o.status === 'CONFIRMED').length === 2);
    assert.deepEqual(await observes('ev-noobj'), [], 'no observation of an object the device does not have');
  });
});

describe("both ingress paths at once ('both')", () => {
  it('writes a value announced by a post and by the stream once', async () => {
    const influxd = await startInfluxd();
    const leshan = await startLeshanDouble({ heartbeatMs: 100 });
    const d = await startController({
      leshan: { url: leshan.url, ingress: 'both' },
      influx: { url: influxd.url, database: 'both', flushIntervalMs: 20, connectIntervalMs: 100 },
    });
    try {
      await until(() => leshan.streamCount() === 1);
      leshan.register({ endpoint: 'dup', queueMode: true });
      // the fork posts the registration date, the same as the stream's REGISTRATION carries
      const { registrationDate } = (await (await fetch(`${leshan.url}/api/clients/dup`)).json()) as { registrationDate: number };
      const posted = await d.post('/leshan_api/resource/single', {
        ep: 'dup',
        obj_id: 10240,
        val: { kind: 'singleResource', id: 0, type: 'TIME', value: registrationDate },
      });
      assert.equal(posted.status, 201);
      for (const v of ['20.5', '20.5', '21.5']) {
        assert.equal((await d.post('/leshan_api/resource/single', { ep: 'dup', obj_id: 3303, val: temp(v) })).status, 201);
        leshan.notify('dup', '/3303/0/5700', temp(v));
      }
      await new Promise((r) => setTimeout(r, 400));
      const values = (await influxd.queryCsv(`SELECT "float" FROM lwm2m WHERE ep='dup'`, 'both')).map((r) => r.float);
      assert.deepEqual(values, ['20.5', '20.5', '21.5'], 'each reading once, the repeated reading twice');
      const regs = await influxd.queryCsv(`SELECT * FROM registration WHERE ep='dup'`, 'both');
      assert.equal(regs.length, 1, 'the registration once');
    } finally {
      await d.stop();
      await leshan.close();
      await influxd.destroy();
    }
  });
});

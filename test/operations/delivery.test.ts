import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator, postRegistration, registerDevice, updateDevice } from '../support/fleet.js';
import type { Operation } from '../../src/operations/operation.js';

describe('delivery through Leshan (daemon in-process, Leshan test double)', () => {
  let leshan: LeshanDouble;
  let d: RunningController;
  let api: ReturnType<typeof operator>;
  let n = 0;
  let ep = '';
  const settled = async (id: string, statuses = ['CONFIRMED', 'FAILED']): Promise<Operation> => {
    let op: Operation | undefined;
    await until(async () => statuses.includes((op = (await api.get(id)).body as Operation).status), 10_000, `operation ${id} settled`);
    return op!;
  };
  const sentTo = (device: string) => leshan.requests.filter((r) => r.ep === device && r.op !== 'registration');

  before(async () => {
    leshan = await startLeshanDouble({ timeScale: 0.02 });
    d = await startController({ leshan: { url: leshan.url, requestTimeoutS: 5 }, influx: { url: 'http://127.0.0.1:9' } });
    api = operator(d);
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
  });
  beforeEach(() => {
    ep = `dev-${++n}`;
  });

  it('sends nothing while the endpoint is offline, and everything on its next update', async () => {
    leshan.register({ endpoint: ep, queueMode: true });
    const op = (await api.queue(ep, { kind: 'write', path: '/5/0/1', value: 'https://x/fw.bin' })).body as Operation;
    assert.equal(op.status, 'QUEUED');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sentTo(ep).length, 0, 'nothing sent before the device wakes');
    await updateDevice(d, leshan, ep);
    const done = await settled(op.id);
    assert.equal(done.status, 'CONFIRMED');
    assert.equal(done.attempts, 1);
    assert.equal(done.result?.status, 'CHANGED(204)');
    const [req] = sentTo(ep);
    assert.equal(req?.method, 'PUT');
    assert.equal(req?.path, `/${ep}/5/0/1`);
    assert.deepEqual(req?.query, { format: 'TLV', timeout: '5' }, 'the configured write content format (leshan.writeFormat)');
    assert.deepEqual(req?.json, { id: 1, kind: 'singleResource', type: 'STRING', value: 'https://x/fw.bin' });
  });

  it('sends each kind and type as Leshan expects it', async () => {
    await registerDevice(d, leshan, ep);
    const ops = [
      { kind: 'write', path: '/1/0/1', value: 300 },
      { kind: 'write', path: '/1/0/6', value: true },
      { kind: 'write', path: '/3/0/13', value: 1732550000000 },
      { kind: 'write', path: '5/0/0', value: 'CAFE01' },
      { kind: 'write', path: '/3303/0/5750', value: 'kitchen' },
      { kind: 'write', path: '/40000/0/1', type: 'float', value: '21.5' },
      { kind: 'write', path: '/40000/0/2', type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 0 } },
      { kind: 'write', path: '/40000/0/3', type: 'INTEGER', value: { '0': 1, '1': '5' } },
      { kind: 'execute', path: '/3/0/4' },
      { kind: 'execute', path: '/5/0/2', args: "0='v1',1" },
      { kind: 'read', path: '/3/0/0' },
      { kind: 'observe', path: '/3303/0/5700' },
    ];
    const ids: string[] = [];
    for (const body of ops) {
      const r = await api.queue(ep, body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id);
    }
    for (const id of ids) assert.equal((await settled(id)).status, 'CONFIRMED');
    const got = sentTo(ep).map((r) => [r.method, r.path, r.query.timeout, r.headers['content-type'], r.body]);
    assert.deepEqual(got, [
      ['PUT', `/${ep}/1/0/1`, '5', 'application/json', JSON.stringify({ id: 1, kind: 'singleResource', type: 'INTEGER', value: '300' })],
      ['PUT', `/${ep}/1/0/6`, '5', 'application/json', JSON.stringify({ id: 6, kind: 'singleResource', type: 'BOOLEAN', value: true })],
      [
        'PUT',
        `/${ep}/3/0/13`,
        '5',
        'application/json',
        JSON.stringify({ id: 13, kind: 'singleResource', type: 'TIME', value: 1732550000000 }),
      ],
      ['PUT', `/${ep}/5/0/0`, '5', 'application/json', JSON.stringify({ id: 0, kind: 'singleResource', type: 'OPAQUE', value: 'cafe01' })],
      [
        'PUT',
        `/${ep}/3303/0/5750`,
        '5',
        'application/json',
        JSON.stringify({ id: 5750, kind: 'singleResource', type: 'STRING', value: 'kitchen' }),
      ],
      ['PUT', `/${ep}/40000/0/1`, '5', 'application/json', JSON.stringify({ id: 1, kind: 'singleResource', type: 'FLOAT', value: 21.5 })],
      [
        'PUT',
        `/${ep}/40000/0/2`,
        '5',
        'application/json',
        JSON.stringify({ id: 2, kind: 'singleResource', type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 0 } }),
      ],
      [
        'PUT',
        `/${ep}/40000/0/3`,
        '5',
        'application/json',
        JSON.stringify({ id: 3, kind: 'multiResource', type: 'INTEGER', values: { '0': '1', '1': '5' } }),
      ],
      ['POST', `/${ep}/3/0/4`, '5', undefined, ''],
      ['POST', `/${ep}/5/0/2`, '5', 'text/plain; charset=UTF-8', "0='v1',1"],
      ['GET', `/${ep}/3/0/0`, '5', undefined, ''],
      ['POST', `/${ep}/3303/0/5700/observe`, '5', undefined, ''],
    ]);
    const execWithArgs = sentTo(ep).find((r) => r.path.endsWith('/5/0/2'))!;
    assert.equal(execWithArgs.headers['content-length'], String("0='v1',1".length), 'fixed Content-Length, not chunked');
    assert.equal(execWithArgs.args, "0='v1',1");
    const read = (await api.get(ids[10]!)).body as Operation;
    assert.ok(read.result?.content, 'a read keeps the content Leshan returned');
  });

  it('fails at once on a device 4.xx, and counts attempts on timeouts: 3 timeouts -> FAILED', async () => {
    await registerDevice(d, leshan, ep);
    leshan.answer(ep, '/5/0/1', { kind: 'deviceError', code: 404 });
    const refused = (await api.queue(ep, { kind: 'write', path: '/5/0/1', value: 'u' })).body as Operation;
    const failed = await settled(refused.id);
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.attempts, 1);
    assert.equal(failed.result?.code, 404);
    assert.match(failed.error ?? '', /NOT_FOUND\(404\)/);

    leshan.answer(ep, '/3/0/4', { kind: 'timeout' }, { kind: 'timeout' }, { kind: 'timeout' });
    const op = (await api.queue(ep, { kind: 'execute', path: '/3/0/4' })).body as Operation;
    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(
        async () =>
          ((await api.get(op.id)).body as Operation).attempts === attempt &&
          ((await api.get(op.id)).body as Operation).status !== 'SENDING',
      );
      const now = (await api.get(op.id)).body as Operation;
      assert.equal(now.status, attempt < 3 ? 'QUEUED' : 'FAILED', `after attempt ${attempt}`);
      if (attempt < 3) {
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(((await api.get(op.id)).body as Operation).attempts, attempt, 'the queue waits for the next wake');
        await updateDevice(d, leshan, ep);
      }
    }
    assert.match(((await api.get(op.id)).body as Operation).error ?? '', /giving up/);
  });

  it('two timeouts then success: CONFIRMED with 3 attempts', async () => {
    await registerDevice(d, leshan, ep);
    leshan.answer(ep, '/1/0/1', { kind: 'timeout' }, { kind: 'timeout' });
    const op = (await api.queue(ep, { kind: 'write', path: '/1/0/1', value: 60 })).body as Operation;
    for (let i = 1; i <= 2; i++) {
      await until(
        async () =>
          ((await api.get(op.id)).body as Operation).attempts === i && ((await api.get(op.id)).body as Operation).status === 'QUEUED',
      );
      await updateDevice(d, leshan, ep);
    }
    const done = await settled(op.id);
    assert.equal(done.status, 'CONFIRMED');
    assert.equal(done.attempts, 3);
  });

  it('sends one at a time, oldest first, and pauses the rest after a timeout', async () => {
    leshan.register({ endpoint: ep, queueMode: true });
    leshan.setLatency(ep, 30);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(((await api.queue(ep, { kind: 'write', path: '/3/0/14', value: `+0${i}:00` })).body as Operation).id);
    leshan.answer(ep, '/3/0/14', { kind: 'success' }, { kind: 'success' }, { kind: 'timeout' });
    await postRegistration(d, ep, 'updated');
    await until(
      async () =>
        ((await api.get(ids[2]!)).body as Operation).attempts === 1 && ((await api.get(ids[2]!)).body as Operation).status === 'QUEUED',
    );
    await new Promise((r) => setTimeout(r, 150));
    const bodies = sentTo(ep).map((r) => (r.json as { value: string }).value);
    assert.deepEqual(bodies, ['+00:00', '+01:00', '+02:00'], 'oldest first, stopped after the timeout');
    const times = sentTo(ep).map((r) => [r.at, r.status]);
    for (let i = 1; i < times.length; i++) assert.ok(sentTo(ep)[i]!.at >= sentTo(ep)[i - 1]!.at, 'one at a time');
    assert.equal(((await api.get(ids[3]!)).body as Operation).status, 'QUEUED');
    await updateDevice(d, leshan, ep);
    for (const id of ids) assert.equal((await settled(id)).status, 'CONFIRMED');
    assert.deepEqual(
      sentTo(ep).map((r) => (r.json as { value: string }).value),
      ['+00:00', '+01:00', '+02:00', '+02:00', '+03:00', '+04:00'],
    );
    assert.equal(((await api.get(ids[2]!)).body as Operation).attempts, 2);
  });

  it('sends at once what is queued while the endpoint is awake, and writes a read value to the store result', async () => {
    await registerDevice(d, leshan, ep);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const op = (await api.queue(ep, { kind: 'read', path: '/3303/0/5700' })).body as Operation;
    const done = await settled(op.id);
    assert.equal(done.status, 'CONFIRMED');
    assert.ok(sentTo(ep)[0]!.at - t0 < 1000, 'no wait for another update');
  });

  it('does not count an attempt when Leshan is unreachable, and delivers once it is back', async () => {
    await registerDevice(d, leshan, ep);
    await leshan.setDown(true);
    const op = (await api.queue(ep, { kind: 'write', path: '/1/0/1', value: 30 })).body as Operation;
    await new Promise((r) => setTimeout(r, 300));
    const during = (await api.get(op.id)).body as Operation;
    assert.equal(during.status, 'QUEUED');
    assert.equal(during.attempts, 0);
    assert.match(during.error ?? '', /unreachable/);
    await leshan.setDown(false);
    leshan.update(ep);
    await postRegistration(d, ep, 'updated');
    const done = await settled(op.id);
    assert.equal(done.status, 'CONFIRMED');
    assert.equal(done.attempts, 1);
  });
});

describe('Delivery at shutdown', () => {
  it('waits for attempts in flight only, not for those still waiting for a slot', async () => {
    const { Delivery } = await import('../../src/operations/delivery.js');
    const { Registry } = await import('prom-client');
    const { testLogger } = await import('../support/config.js');
    const queued = new Map<string, Operation>();
    for (const ep of ['a', 'b'])
      queued.set(ep, { id: ep, ep, kind: 'read', path: '/3/0/0', status: 'QUEUED', attempts: 0, createdAt: '', updatedAt: '' });
    let release: (() => void) | undefined;
    const sent: string[] = [];
    const delivery = new Delivery({
      store: {
        nextQueued: (ep) => queued.get(ep),
        get: (id) => queued.get(id),
        markSending: (id) => ({ ...queued.get(id)!, status: 'SENDING', attempts: 1 }),
        flush: async () => {},
        available: true,
        whenWritable: async () => {},
        settle: async (id, patch) => ({ ...queued.get(id)!, status: patch.status }),
        expire: async (id) => queued.get(id)!,
      },
      client: {
        send: (op) => {
          sent.push(op.ep);
          return new Promise(
            (resolve) =>
              (release = () => resolve({ attempt: { kind: 'confirmed', result: { status: 'CHANGED(204)', code: 204 } }, ms: 1 })),
          );
        },
      },
      maxAttempts: 3,
      maxConcurrent: 1,
      now: Date.now,
      log: testLogger(),
      registry: new Registry(),
    });
    void delivery.deliverNext('a');
    void delivery.deliverNext('b'); // waits for the single slot
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['a']);
    const t0 = Date.now();
    const draining = delivery.drain(5000);
    setTimeout(() => release?.(), 50);
    assert.equal(await draining, true, 'the attempt in flight finished');
    assert.ok(Date.now() - t0 < 1000, 'not held up by the attempt that never started');
    assert.deepEqual(sent, ['a'], 'the waiting attempt was not started');
    void delivery.deliverNext('a');
    await new Promise((r) => setImmediate(r));
    assert.equal(await delivery.drain(50), false, 'an attempt still in flight at the deadline');
    release?.();
  });
});

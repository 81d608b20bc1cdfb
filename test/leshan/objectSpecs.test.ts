import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dataLine } from '../../src/ingest/points.js';
import {
  ObjectSpecs,
  parseObjectSpecs,
  tellingObjectSpecs,
  unknownObjects,
  type HearsRegistrations,
} from '../../src/leshan/objectSpecs.js';
import { objectModel, resourceModel } from '../../src/lwm2m/objectModel.js';

/** One object model as Leshan's demo server writes it (ObjectModelSerDes / ResourceModelSerDes). */
function spec(id: number, name: string, resourcedefs: object[] = []): object {
  return {
    id,
    name,
    instancetype: 'multiple',
    mandatory: false,
    urn: `urn:oma:lwm2m:x:${id}`,
    version: '1.1',
    lwm2mversion: '1.1',
    description: 'a vendor object',
    description2: '',
    resourcedefs,
  };
}

function res(id: number, name: string, operations: string, type: string, instancetype = 'single'): object {
  return { id, name, operations, instancetype, mandatory: false, type, range: '', units: '', description: '' };
}

const links = (...urls: string[]): object[] => urls.map((url) => ({ url, attributes: {} }));

/** A loopback HTTP server standing in for Leshan's objectspecs route: answers what `answer` says, records the paths. */
class SpecServer {
  readonly paths: string[] = [];
  active = 0;
  maxActive = 0;
  answer: (ep: string) => { status: number; body: string; delayMs?: number } = () => ({ status: 404, body: 'Not Found' });
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.paths.push(req.url ?? '');
      const ep = decodeURIComponent((req.url ?? '').replace(/^\/api\/objectspecs\//, ''));
      const a = this.answer(ep);
      this.maxActive = Math.max(this.maxActive, ++this.active);
      res.on('close', () => this.active--);
      setTimeout(() => res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(a.body), a.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('objectspecs JSON (Leshan demo server)', () => {
  it('reads names, types, operations and multiplicity as Leshan writes them', () => {
    const { models, refused } = parseObjectSpecs([
      spec(33001, ' Pump controller ', [
        res(0, 'Flow', 'R', 'float'),
        res(1, 'Setpoint', 'RW', 'unsigned_integer'),
        res(2, 'Reset', 'E', 'none'),
        res(3, 'Secret', 'NONE', 'opaque', 'multiple'),
      ]),
    ]);
    assert.equal(refused, 0);
    assert.deepEqual(models, [
      {
        id: 33001,
        name: 'Pump controller',
        multiple: true,
        version: '1.1',
        resources: [
          [0, 'Flow', 'FLOAT', 'R', false],
          [1, 'Setpoint', 'UNSIGNED_INTEGER', 'RW', false],
          [2, 'Reset', 'NONE', 'E', false],
          [3, 'Secret', 'OPAQUE', '', true],
        ],
      },
    ]);
  });

  it('leaves out what is not as Leshan writes it, and counts it', () => {
    const { models, refused } = parseObjectSpecs([
      spec(33002, 'Ok', [
        res(0, 'A', 'R', 'float'),
        res(0, 'Twice', 'R', 'float'),
        res(1, 'B', 'RE', 'float'),
        res(2, 'C', 'R', 'decimal'),
      ]),
      spec(70000, 'Id too large'),
      spec(33003, 'Line\nbreak'),
      { ...spec(33004, 'No instancetype'), instancetype: 'many' },
      'not an object',
      { ...spec(33005, 'Odd version'), version: 'x', resourcedefs: 'not a list' },
    ]);
    assert.deepEqual(
      models.map((m) => [m.id, m.version, m.resources.map((r) => r[0])]),
      [
        [33002, '1.1', [0]],
        [33005, '1.0', []],
      ],
    );
    assert.equal(refused, 3 + 4);
    assert.deepEqual(parseObjectSpecs({ not: 'a list' }), { models: [], refused: 1 });
  });

  it('takes the object ids without a model from object links', () => {
    assert.deepEqual(unknownObjects(links('/', '/3/0', '/40010/0', '/40010/1', '/40011', '/3303/0', '/40012/0/1', 'junk')), [40010, 40011]);
    assert.deepEqual(unknownObjects([null, 7, { url: 5 }, { url: '/70000/0' }]), []);
    assert.deepEqual(unknownObjects(undefined), []);
  });
});

describe('ObjectSpecs against a loopback Leshan', () => {
  const leshan = new SpecServer();
  before(() => leshan.start());
  after(() => leshan.stop());

  const make = (extra: Partial<ConstructorParameters<typeof ObjectSpecs>[0]> = {}) =>
    new ObjectSpecs({ url: leshan.url, deadlineMs: 2000, maxResponseBytes: 64 * 1024, ...extra });

  it('learns a vendor object once, for the name tags of its values', async () => {
    leshan.paths.length = 0;
    leshan.answer = () => ({
      status: 200,
      body: JSON.stringify([
        spec(3, 'Device (known)'),
        spec(33010, 'Pump', [res(0, 'Flow Rate', 'R', 'float'), res(1, 'Stop', 'E', 'none')]),
      ]),
    });
    const specs = make();
    specs.registered('pump 1', links('/3/0', '/33010/0'));
    await specs.idle();
    assert.deepEqual(leshan.paths, ['/api/objectspecs/pump%201']);
    assert.equal(objectModel(33010)?.name, 'Pump');
    assert.deepEqual(resourceModel(33010, 1), { id: 1, name: 'Stop', type: 'NONE', operations: 'E', multiple: false });
    assert.equal(objectModel(3)?.name, 'Device', 'a registry object keeps its registry model');
    assert.equal(
      dataLine('d', { objectId: 33010, instanceId: 0, resourceId: 0, value: { type: 'FLOAT', value: 2.5 } }, '1'),
      'lwm2m,ep=d,inst=0,obj=33010,object=Pump,res=0,resource=Flow\\ Rate,type=FLOAT float=2.5 1',
    );
    specs.registered('pump 2', links('/33010/0'));
    specs.registered('pump 3', links('/3/0'));
    await specs.idle();
    assert.equal(leshan.paths.length, 1, 'known objects are not asked about');
    assert.deepEqual(specs.counts, { requests: 1, learned: 1, dropped: 0, failed: 0 });
  });

  it('asks about an object Leshan has no model of at most once per retryAfterMs', async () => {
    leshan.paths.length = 0;
    leshan.answer = () => ({ status: 200, body: '[]' });
    let now = 1_000_000;
    const specs = make({ now: () => now, retryAfterMs: 60_000 });
    specs.registered('a', links('/33020/0'));
    await specs.idle();
    specs.registered('b', links('/33020/0'));
    await specs.idle();
    assert.equal(leshan.paths.length, 1);
    now += 60_000;
    specs.registered('c', links('/33020/0'));
    await specs.idle();
    assert.deepEqual(leshan.paths, ['/api/objectspecs/a', '/api/objectspecs/c']);
    assert.equal(objectModel(33020), undefined);
  });

  it('stops asking a server without the route (404) for retryAfterMs', async () => {
    leshan.paths.length = 0;
    leshan.answer = () => ({ status: 404, body: 'Not Found' });
    let now = 0;
    const specs = make({ now: () => now, retryAfterMs: 60_000 });
    specs.registered('a', links('/33030/0'));
    await specs.idle();
    specs.registered('b', links('/33031/0'));
    await specs.idle();
    assert.equal(leshan.paths.length, 1);
    now += 60_000;
    specs.registered('c', links('/33031/0'));
    await specs.idle();
    assert.equal(leshan.paths.length, 2);
  });

  it('asks again after a 400 (the client was gone) at the next registration', async () => {
    leshan.paths.length = 0;
    leshan.answer = (ep) => ({ status: 400, body: `no registered client with id '${ep}'` });
    const specs = make();
    specs.registered('gone', links('/33040/0'));
    await specs.idle();
    specs.registered('back', links('/33040/0'));
    await specs.idle();
    assert.equal(leshan.paths.length, 2);
    assert.equal(specs.counts.failed, 2);
  });

  it('learns nothing from an answer too large or not JSON', async () => {
    leshan.answer = (ep) => ({ status: 200, body: ep === 'big' ? JSON.stringify([spec(33050, 'x'.repeat(100 * 1024))]) : '[{"id":' });
    const specs = make();
    specs.registered('big', links('/33050/0'));
    specs.registered('broken', links('/33051/0'));
    await specs.idle();
    assert.equal(objectModel(33050), undefined);
    assert.equal(objectModel(33051), undefined);
    assert.equal(specs.counts.failed, 2);
  });

  it('keeps one request in flight and a bounded queue', async () => {
    leshan.paths.length = 0;
    leshan.answer = () => ({ status: 200, body: '[]', delayMs: 50 });
    leshan.maxActive = 0;
    const specs = make({ maxQueued: 2 });
    for (let i = 0; i < 5; i++) specs.registered(`d${i}`, links(`/3306${i}/0`));
    await specs.idle();
    assert.equal(specs.counts.dropped, 3, 'two waiting, three dropped');
    assert.deepEqual(leshan.paths, ['/api/objectspecs/d0', '/api/objectspecs/d1']);
    assert.equal(leshan.maxActive, 1);
  });

  it('cuts the request in flight at stop', async () => {
    leshan.answer = () => ({ status: 200, body: '[]', delayMs: 5000 });
    leshan.paths.length = 0;
    const specs = make({ deadlineMs: 10_000 });
    specs.registered('slow', links('/33070/0'));
    while (leshan.paths.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    specs.stop();
    await specs.idle();
    assert.equal(specs.counts.failed, 1, 'the request in flight ended when stopped');
    specs.registered('later', links('/33071/0'));
    await specs.idle();
    assert.equal(specs.counts.requests, 1, 'nothing asked after stop');
  });
});

describe('tellingObjectSpecs', () => {
  it('tells new registrations only, and leaves the rest of the activity as it is', async () => {
    const heard: string[] = [];
    class Activity implements HearsRegistrations {
      readonly #prefix = 'ep:';
      registrationEvent(ep: string, event: string, _value?: never, _info?: { objectLinks?: unknown[] }): void {
        heard.push(`${event} ${this.#prefix}${ep}`);
      }
      presence(ep: string): string {
        return `${this.#prefix}${ep}`;
      }
    }
    const told: string[] = [];
    const specs = { registered: (ep: string, l: unknown) => told.push(`${ep} ${JSON.stringify(l)}`) } as unknown as ObjectSpecs;
    const wrapped = tellingObjectSpecs(new Activity(), specs);
    wrapped.registrationEvent('a', 'registered', undefined as never, { objectLinks: [{ url: '/1/0' }] });
    wrapped.registrationEvent('a', 'updated', undefined as never, { objectLinks: [] });
    assert.deepEqual(heard, ['registered ep:a', 'updated ep:a']);
    assert.deepEqual(told, ['a [{"url":"/1/0"}]']);
    assert.equal(wrapped.presence('b'), 'ep:b', 'methods run on the activity itself (its #private fields too)');
  });
});

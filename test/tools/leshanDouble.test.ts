// Section numbers (§) refer to docs/leshan-rest-api.md.
import assert from 'node:assert/strict';
import http from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLeshanDouble, type LeshanDouble, type LeshanDoubleOptions } from '../../tools/leshanDouble.js';
import { openSse, type Sse } from '../support/sse.js';

interface Reply {
  status: number;
  type: string | null;
  text: string;
  headers: Headers;
}

async function call(
  d: LeshanDouble,
  method: string,
  path: string,
  body?: string | object,
  contentType = 'application/json',
): Promise<Reply> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': contentType };
  }
  const r = await fetch(`${d.url}/api/clients${path}`, init);
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text(), headers: r.headers };
}

const parse = (r: Reply): Record<string, unknown> => JSON.parse(r.text) as Record<string, unknown>;

const REG_KEYS = [
  'endpoint',
  'registrationId',
  'registrationDate',
  'lastUpdate',
  'address',
  'lwM2mVersion',
  'lifetime',
  'bindingMode',
  'rootPath',
  'objectLinks',
  'secure',
  'additionalRegistrationAttributes',
  'queuemode',
  'availableInstances',
];
const SLEEPING_TEXT = 'Invalid request: The destination client is sleeping, request cannot be sent.';

let d: LeshanDouble;
const streams: Sse[] = [];
async function start(opts: LeshanDoubleOptions = {}): Promise<LeshanDouble> {
  d = await startLeshanDouble({ timeScale: 0.01, ...opts });
  return d;
}
async function sse(query = ''): Promise<Sse> {
  const s = await openSse(d.url, query);
  streams.push(s);
  return s;
}
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await d?.close();
});

describe('leshanDouble: registrations (§6)', () => {
  beforeEach(async () => {
    await start();
    d.register({ endpoint: 'dev1', queueMode: false, objectLinks: ['/1/0', '/3/0', '/3303/1', '/3303/0'] });
  });

  it('lists registrations with the 2.x field order and no `sleeping` without queue mode', async () => {
    const r = await call(d, 'GET', '');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    const [reg] = JSON.parse(r.text) as Array<Record<string, unknown>>;
    assert.ok(reg);
    assert.deepEqual(Object.keys(reg), REG_KEYS);
    assert.equal(typeof reg.registrationDate, 'number');
    assert.equal(reg.bindingMode, 'U');
    assert.deepEqual(reg.availableInstances, { 1: [0], 3: [0], 3303: [0, 1] });
    assert.deepEqual((reg.objectLinks as unknown[])[0], { url: '/', attributes: { rt: '"oma.lwm2m"', ct: '"60 110 112 11542 11543"' } });
  });

  it('answers one registration; a queue-mode client has `sleeping` last', async () => {
    d.register({ endpoint: 'q1', queueMode: true, lwM2mVersion: '1.0' });
    const r = await call(d, 'GET', '/q1');
    const reg = parse(r);
    assert.deepEqual(Object.keys(reg), [...REG_KEYS, 'sleeping']);
    assert.equal(reg.sleeping, false);
    assert.equal(reg.bindingMode, 'UQ');
    const list = JSON.parse((await call(d, 'GET', '')).text) as unknown[];
    assert.deepEqual(list[1], reg);
  });

  it('unknown endpoint: 400 text, with M15 casing, checked after routing', async () => {
    const read = await call(d, 'GET', '/ghost/3/0/1');
    assert.deepEqual([read.status, read.text, read.type], [400, "No registered client with id 'ghost'", null]);
    assert.equal((await call(d, 'GET', '/ghost')).text, "no registered client with id 'ghost'");
    assert.equal((await call(d, 'POST', '/ghost/3/0/4')).text, "no registered client with id 'ghost'");
    assert.equal((await call(d, 'DELETE', '/ghost/3/0')).text, "no registered client with id 'ghost'");
    const put = await call(d, 'PUT', '/ghost/3', {});
    assert.equal(put.status, 400);
    assert.match(put.text, /HTTP ERROR 400 Invalid path/);
    assert.equal(d.delivered().length, 0);
  });

  it('listens on 127.0.0.1 and 404s outside the servlet mounts', async () => {
    assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${d.url}/api/other`);
    assert.equal(r.status, 404);
    await r.text();
    const encodedSlash = await call(d, 'GET', '/dev%2F1/3/0/1');
    assert.equal(encodedSlash.status, 400); // Jetty 11: ambiguous path separator
    assert.match(encodedSlash.text, /Ambiguous URI path separator/);
    assert.equal(parse(await call(d, 'GET', '/de%76%31/3/0/1')).status, 'CONTENT(205)');
  });
});

describe('leshanDouble: ClientServlet routes (§1, §3, §4)', () => {
  beforeEach(async () => {
    await start();
    d.register({ endpoint: 'dev1', queueMode: false, objectLinks: ['/1/0', '/3/0', '/3303/0', '/16/0'] });
  });

  it('read: CONTENT(205) with a node, keys in Jackson order', async () => {
    const r = await call(d, 'GET', '/dev1/3/0/1?format=cbor');
    assert.equal(r.status, 200);
    assert.equal(
      r.text,
      '{"status":"CONTENT(205)","valid":true,"success":true,"failure":false,' +
        '"content":{"id":1,"kind":"singleResource","type":"STRING","value":"x"}}',
    );
    const [rec] = d.delivered('dev1');
    assert.deepEqual([rec?.op, rec?.lwm2mPath, rec?.query.format], ['read', '/3/0/1', 'cbor']);
  });

  it('device errors are HTTP 200 with success:false; scripted answers are used in order', async () => {
    d.answer('dev1', '/3/0/1', { kind: 'deviceError', code: 404, errormessage: 'no such' }, { kind: 'deviceError', code: 499 });
    d.answer('dev1', '*', { kind: 'success', content: { id: 9, kind: 'singleResource', type: 'INTEGER', value: '7' } });
    const e1 = await call(d, 'GET', '/dev1/3/0/1');
    assert.equal(e1.status, 200);
    assert.equal(e1.text, '{"status":"NOT_FOUND(404)","valid":true,"success":false,"failure":true,"errormessage":"no such"}');
    assert.deepEqual(parse(await call(d, 'GET', '/dev1/3/0/1')), {
      status: 'UNKNOWN(499)',
      valid: false,
      success: false,
      failure: true,
    });
    assert.deepEqual(parse(await call(d, 'GET', '/dev1/3/0/1')).content, { id: 9, kind: 'singleResource', type: 'INTEGER', value: '7' });
    d.answer('dev1', '/3/0/1', { kind: 'deviceError', code: 204, errormessage: 'ignored on success' });
    const w = await call(d, 'PUT', '/dev1/3/0/1', { id: 1, kind: 'singleResource', type: 'STRING', value: 'a' });
    assert.equal(w.text, '{"status":"CHANGED(204)","valid":true,"success":true,"failure":false}');
  });

  it('discover, create, delete and their segment rules', async () => {
    const disc = parse(await call(d, 'GET', '/dev1/3303/discover'));
    assert.deepEqual(disc.objectLinks, [
      { url: '/3303', attributes: {} },
      { url: '/3303/0', attributes: {} },
    ]);
    const created = await call(d, 'POST', '/dev1/3303', { kind: 'instance', resources: [] });
    assert.equal(created.text, '{"status":"CREATED(201)","valid":true,"success":true,"failure":false,"location":"3303/1"}');
    assert.equal(parse(await call(d, 'POST', '/dev1/3303', { id: 5, kind: 'instance', resources: [] })).location, '3303/5');
    const onInstance = await call(d, 'POST', '/dev1/3303/7', { kind: 'instance', resources: [] });
    assert.deepEqual(
      [onInstance.status, onInstance.text],
      [400, 'Invalid request: Invalid path /3303/7: Create request must target an object'],
    );
    const notInstance = await call(d, 'POST', '/dev1/3303', { id: 1, kind: 'singleResource', type: 'STRING', value: 'a' });
    assert.deepEqual([notInstance.status, notInstance.text], [500, 'Unexpected exception: payload must contain an object instance']);
    assert.equal((await call(d, 'DELETE', '/dev1/3303/0')).text, '{"status":"DELETED(202)","valid":true,"success":true,"failure":false}');
    const delRes = await call(d, 'DELETE', '/dev1/3303/0/1');
    assert.deepEqual([delRes.status, delRes.text], [400, 'Invalid request: Invalid path /3303/0/1 : Only object instances can be delete']);
    for (const p of ['/dev1/3/0/4/5/6', '/dev1']) {
      const r = await call(d, 'POST', p);
      assert.equal(r.status, 400, p);
      assert.match(r.text, /HTTP ERROR 400 Invalid path/);
    }
  });

  it('write-attributes parses the whole query: ?timeout is an unknown attribute (500 in M15)', async () => {
    const ok = await call(d, 'PUT', '/dev1/3/0/1/attributes?pmin=10&pmax=60');
    assert.equal(parse(ok).status, 'CHANGED(204)');
    assert.equal(d.delivered().at(-1)?.lwm2mPath, '/3/0/1');
    const bad = await call(d, 'PUT', '/dev1/3/0/1/attributes?pmin=10&timeout=5');
    assert.deepEqual([bad.status, bad.text], [500, 'Unexpected exception: timeout attribute is unknown or not a LWM2M attribute']);
  });

  it('composite read, write and observe', async () => {
    const read = parse(await call(d, 'GET', '/dev1/composite?paths=/3/0/0,/3303/0/5700'));
    assert.deepEqual(Object.keys(read.content as object), ['/3/0/0', '/3303/0/5700']);
    const noPaths = await call(d, 'GET', '/dev1/composite');
    assert.equal(noPaths.status, 500);
    assert.match(noPaths.text, /^Unexpected exception: Cannot invoke "String.split\(String\)"/);
    const w = await call(d, 'PUT', '/dev1/composite', { '/3/0/14': { id: 14, kind: 'singleResource', type: 'STRING', value: '+01' } });
    assert.equal(parse(w).status, 'CHANGED(204)');
    const broken = await call(d, 'PUT', '/dev1/composite', '{"/3/0/14":');
    assert.equal(broken.status, 500); // a Jackson IOException escapes the M15 servlet: Jetty's error page
    assert.match(broken.text, /HTTP ERROR 500 com\.fasterxml\.jackson\.core\.JsonParseException/);
    const obs = await call(d, 'POST', '/dev1/composite/observe?paths=/3/0/0');
    assert.equal(parse(obs).status, 'CONTENT(205)');
    assert.equal((await call(d, 'DELETE', '/dev1/composite/observe?paths=/3/0/0&active')).status, 200);
    assert.equal((await call(d, 'DELETE', '/dev1/composite/observe?paths=/3/0/0&active')).status, 404);
  });

  it('write bodies are validated like the Jackson deserializer (500 value type, 400 syntax/path)', async () => {
    const res = (id: number, type: string, value: unknown) => ({ id, kind: 'singleResource', type, value });
    const cases: Array<[string, unknown, number, RegExp]> = [
      [
        '/1/0/6',
        res(6, 'BOOLEAN', 'true'),
        500,
        /^Unexpected exception: Unexpected JSON type of 'value' field \["true"\]: a JSON boolean is expected for BOOLEAN but was string/,
      ],
      ['/1/0/6', res(6, 'BOOLEAN', true), 200, /CHANGED\(204\)/],
      ['/1/0/6', { id: 6, kind: 'singleResource', value: true }, 500, /^Unexpected exception: Cannot invoke/],
      ['/1/0/6', res(6, 'BOOL', true), 500, /^Unexpected exception: No enum constant .*Type\.BOOL$/],
      ['/3/0/13', res(13, 'TIME', '1725000000000'), 500, /a JSON number\(long\) is expected for TIME but was string/],
      ['/3/0/13', res(13, 'time', 1725000000000), 200, /CHANGED/],
      ['/1/0/1', res(1, 'INTEGER', '300'), 200, /CHANGED/],
      ['/1/0/1', res(1, 'INTEGER', 300), 200, /CHANGED/],
      ['/1/0/1', res(1, 'INTEGER', '3.5'), 500, /^Unexpected exception: "3.5" is not a valid Long\.$/],
      ['/3303/0/5700', res(5700, 'FLOAT', '21.5'), 200, /CHANGED/],
      ['/3303/0/5700', res(5700, 'FLOAT', 21.5), 200, /CHANGED/],
      ['/3303/0/5700', res(5700, 'FLOAT', true), 500, /^Unexpected exception: Unexpected JSON type/],
      ['/5/0/0', res(0, 'OPAQUE', 'cafe01'), 200, /CHANGED/],
      ['/5/0/0', res(0, 'OPAQUE', 'caf'), 500, /^Unexpected exception: Odd number of characters\.$/],
      ['/3/0/22', res(22, 'OBJLNK', { objectId: 3303, objectInstanceId: 0 }), 200, /CHANGED/],
      ['/3/0/22', res(22, 'OBJLNK', '3303:0'), 500, /^Unexpected exception: Unexpected JSON type/],
      ['/1/0/1', '{"id":1,"kind":', 400, /^Invalid request: unable to parse json to tlv:/],
      ['/1/0/1', '', 400, /^Invalid request: unable to parse json to tlv:No content to map/],
      ['/1/0/1', { kind: 'singleResource', type: 'STRING', value: 'a' }, 400, /^Invalid request: unable to parse json to tlv:Missing id$/],
      ['/1/0/1', [1], 400, /^Invalid request: unable to parse json to tlv:Invalid node element$/],
      ['/1/0', res(1, 'STRING', 'a'), 400, /^Invalid request: path '\/1\/0' and node type 'LwM2mSingleResource' do not match$/],
      ['/1/0', { id: 0, kind: 'instance', resources: [res(1, 'INTEGER', '60')] }, 200, /CHANGED/],
      ['/16/0/0', { id: 0, kind: 'multiResource', type: 'STRING', values: { 0: 'aa', 1: 'bb' } }, 200, /CHANGED/],
      ['/16/0/0/1', { id: 1, kind: 'resourceInstance', type: 'STRING', value: 'bb' }, 200, /CHANGED/],
      ['/16/0/0/1', res(1, 'STRING', 'bb'), 400, /node type 'LwM2mSingleResource' do not match/],
      [
        '/1/0/1?replace=false',
        res(1, 'INTEGER', '1'),
        400,
        /^Invalid request: Invalid mode for '\/1\/0\/1': update is not allowed on single resource$/,
      ],
      ['/1/x/1', res(1, 'INTEGER', '1'), 500, /^Unexpected exception: Invalid elements in path 1\/x\/1$/],
    ];
    for (const [path, body, status, text] of cases) {
      const r = await call(d, 'PUT', `/dev1${path}`, typeof body === 'string' ? body : JSON.stringify(body));
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.text, text, `${path} ${JSON.stringify(body)}`);
      if (status !== 200) assert.equal(r.type, null);
    }
    const delivered = d.delivered('dev1').length;
    assert.equal(delivered, cases.filter((c) => c[2] === 200).length);

    const text = await call(d, 'PUT', '/dev1/3/0/14', '+02:00', 'text/plain');
    assert.equal(parse(text).status, 'CHANGED(204)');
    assert.equal(d.delivered('dev1').at(-1)?.body, '+02:00');
    const xml = await call(d, 'PUT', '/dev1/3/0/14', '<a/>', 'application/xml');
    assert.deepEqual([xml.status, xml.text], [400, 'Invalid request: content type application/xml not supported']);
  });

  it('execute: arguments are read only when Content-Length > 0', async () => {
    const r = await call(d, 'POST', '/dev1/3/0/4', "0='v1',1", 'text/plain');
    assert.equal(r.text, '{"status":"CHANGED(204)","valid":true,"success":true,"failure":false}');
    assert.equal(d.delivered().at(-1)?.args, "0='v1',1");
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${d.url}/api/clients/dev1/3/0/4`,
        { method: 'POST', headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end('x-not-args');
    });
    assert.equal(chunked, 200);
    const last = d.delivered().at(-1);
    assert.deepEqual([last?.args, last?.body], [null, 'x-not-args']);
    const twice = await call(d, 'POST', '/dev1/3/0/4', "0,0='a'", 'text/plain');
    assert.match(twice.text, /^Invalid request: Invalid Execute request : \[.*digit \[0\] exists more than once/);
    const bad = await call(d, 'POST', '/dev1/3/0/4', '1=v', 'text/plain');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^Invalid request: Invalid Execute request : \[Unable to parse Arguments \[1=v\] : opening quote/);
  });

  it('timeouts: 504 "Request timeout" after ?timeout (scaled), default 5 s, and when latency exceeds it', async () => {
    d.answer('dev1', '/3/0/1', { kind: 'timeout' }, { kind: 'timeout' });
    let t0 = Date.now();
    const r = await call(d, 'GET', '/dev1/3/0/1?timeout=3');
    assert.ok(Date.now() - t0 >= 28, `answered after ${Date.now() - t0} ms`);
    assert.deepEqual([r.status, r.text, r.type], [504, 'Request timeout', null]);
    t0 = Date.now();
    assert.equal((await call(d, 'GET', '/dev1/3/0/1?timeout=x')).status, 504);
    assert.ok(Date.now() - t0 >= 48, 'the default timeout is 5 s');
    d.setLatency('dev1', 80);
    assert.equal((await call(d, 'GET', '/dev1/3/0/1')).status, 504);
    d.setLatency('dev1', 30);
    t0 = Date.now();
    assert.equal((await call(d, 'GET', '/dev1/3/0/1')).status, 200);
    assert.ok(Date.now() - t0 >= 28, 'latency delays the answer');
  });

  it('RST, cancelled and send failures are 500 texts', async () => {
    d.answer('dev1', '/3/0/1', { kind: 'rst' }, { kind: 'cancelled' }, { kind: 'sendFailure', message: 'boom' });
    assert.match((await call(d, 'GET', '/dev1/3/0/1')).text, /^Request rejected: /);
    assert.match((await call(d, 'GET', '/dev1/3/0/1')).text, /^Request cancelled: /);
    const f = await call(d, 'GET', '/dev1/3/0/1');
    assert.deepEqual([f.status, f.text], [500, 'Unexpected exception: boom']);
  });

  it('observe, passive and active cancel', async () => {
    const o = parse(await call(d, 'POST', '/dev1/3303/0/5700/observe'));
    assert.deepEqual([o.status, (o.content as { id: number }).id], ['CONTENT(205)', 5700]);
    assert.deepEqual(d.observations('dev1'), ['/3303/0/5700']);
    const passive = await call(d, 'DELETE', '/dev1/3303/0/5700/observe');
    assert.deepEqual([passive.status, passive.text], [200, '']);
    assert.equal(d.requests.at(-1)?.delivered, false, 'a passive cancel never reaches the device');
    assert.deepEqual(d.observations('dev1'), []);
    // Active cancel parses the path only while filtering existing observations; passive always parses it.
    assert.equal((await call(d, 'DELETE', '/dev1/3/x/observe?active')).status, 404);
    assert.equal((await call(d, 'DELETE', '/dev1/3/x/observe')).status, 500);
    const none = await call(d, 'DELETE', '/dev1/3303/0/5700/observe?active');
    assert.deepEqual([none.status, none.text], [404, "no observation for path /3303/0/5700 for  client 'dev1'"]);
    await call(d, 'POST', '/dev1/3303/0/5700/observe');
    const active = parse(await call(d, 'DELETE', '/dev1/3303/0/5700/observe?active'));
    assert.equal(active.status, 'CONTENT(205)');
    assert.ok(active.content);
    assert.equal((await call(d, 'DELETE', '/dev1/3303/0/5700/observe?active')).status, 404);
  });

  it('deregistration cancels pending requests', async () => {
    d.setLatency('dev1', 1000);
    const pending = call(d, 'GET', '/dev1/3/0/1?timeout=1000');
    await sleep(30);
    d.deregister('dev1');
    const r = await pending;
    assert.equal(r.status, 500);
    assert.match(r.text, /^Request cancelled: /);
    assert.equal((await call(d, 'GET', '/dev1/3/0/1')).status, 400);
  });
});

describe('leshanDouble: queue mode (§5)', () => {
  it('L15: a sleeping client gets 400 at once; the request is recorded, not delivered', async () => {
    await start();
    d.register({ endpoint: 'q1', queueMode: true });
    d.sleep('q1');
    const r = await call(d, 'PUT', '/q1/1/0/1', { id: 1, kind: 'singleResource', type: 'INTEGER', value: '60' });
    assert.deepEqual([r.status, r.text], [400, SLEEPING_TEXT]);
    const rec = d.requests.at(-1);
    assert.deepEqual([rec?.ep, rec?.op, rec?.delivered], ['q1', 'write', false]);
    d.wake('q1');
    assert.equal((await call(d, 'GET', '/q1/1/0/1')).status, 200);
    assert.equal(d.delivered('q1').length, 1);
  });

  it('L15: a device timeout puts a queue-mode client to sleep (SLEEPING event)', async () => {
    await start();
    const s = await sse();
    d.register({ endpoint: 'q1', queueMode: true });
    d.answer('q1', '*', { kind: 'timeout' });
    assert.equal((await call(d, 'GET', '/q1/3/0/1?timeout=1')).status, 504);
    await s.waitFor('SLEEPING', (e) => e.ep === 'q1');
    assert.equal(d.isAwake('q1'), false);
    assert.equal((await call(d, 'GET', '/q1/3/0/1')).text, SLEEPING_TEXT);
  });

  it('LM: sleeping → delayed 200; only the newest is sent on AWAKE, then REQUEST_RESPONSE', async () => {
    await start({ mode: 'LM' });
    const s = await sse();
    d.register({ endpoint: 'q1', queueMode: true });
    d.sleep('q1');
    const first = await call(d, 'PUT', '/q1/1/0/1', { id: 1, kind: 'singleResource', type: 'INTEGER', value: '60' });
    const second = await call(d, 'POST', '/q1/3/0/4');
    const a = parse(first);
    const b = parse(second);
    assert.deepEqual(Object.keys(a), ['ep', 'path', 'requestId', 'delayed']);
    assert.deepEqual([a.ep, a.path, a.delayed, b.path], ['q1', '/1/0/1', true, '/3/0/4']);
    assert.notEqual(a.requestId, b.requestId);
    assert.equal(d.delivered().length, 0);
    d.update('q1');
    const ev = await s.waitFor('REQUEST_RESPONSE');
    assert.equal(
      ev.data,
      `{"ep":"q1","path":"/3/0/4","requestId":"${String(b.requestId)}",` +
        '"response":{"status":"CHANGED(204)","valid":true,"success":true,"failure":false},"delayed":true}',
    );
    assert.deepEqual(s.names().slice(-3), ['AWAKE', 'UPDATED', 'REQUEST_RESPONSE']);
    assert.deepEqual(
      d.delivered().map((r) => r.op),
      ['execute'],
    );
    await sleep(30);
    assert.equal(s.events.filter((e) => e.event === 'REQUEST_RESPONSE').length, 1);
  });

  it('LM: a queued request that times out raises no event; registration checked before routing', async () => {
    await start({ mode: 'LM' });
    const s = await sse();
    d.register({ endpoint: 'q1', queueMode: true });
    d.sleep('q1');
    d.answer('q1', '*', { kind: 'timeout' });
    assert.equal(parse(await call(d, 'GET', '/q1/3/0/1?timeout=1')).delayed, true);
    d.wake('q1');
    await s.waitFor('SLEEPING', () => true);
    assert.equal(
      s.events.some((e) => e.event === 'REQUEST_RESPONSE'),
      false,
    );
    d.sleep('q1');
    assert.equal(parse(await call(d, 'POST', '/q1/3/0/4')).delayed, true);
    d.deregister('q1');
    d.register({ endpoint: 'q1', queueMode: true });
    await s.waitFor('REGISTRATION', () => s.events.filter((e) => e.event === 'REGISTRATION').length === 2);
    await sleep(20);
    assert.equal(
      s.events.some((e) => e.event === 'REQUEST_RESPONSE'),
      false,
      'the queued request died with its registration',
    );
    assert.equal(d.delivered().filter((r) => r.op === 'execute').length, 0);
    const ghost = await call(d, 'PUT', '/ghost/3');
    assert.deepEqual([ghost.status, ghost.text, ghost.type], [400, "No registered client with id 'ghost'", 'text/plain; charset=UTF-8']);
    const invalid = await call(d, 'PUT', '/q1/3');
    assert.deepEqual([invalid.status, invalid.text], [400, 'Invalid path']);
    const attrs = await call(d, 'PUT', '/q1/3/0/1/attributes?timeout=5');
    assert.deepEqual([attrs.status, attrs.text], [400, 'Invalid attributes: timeout attribute is unknown or not a LWM2M attribute']);
  });
});

describe('leshanDouble: event stream (§5.3)', () => {
  it('requires exactly "Accept: text/event-stream"; streams raw, no chunking, Connection: close', async () => {
    await start();
    for (const headers of [{}, { accept: 'text/event-stream, text/plain' }]) {
      const s = await openSse(d.url, '', headers);
      assert.equal(s.res.statusCode, 405);
      s.close();
    }
    const s = await sse();
    assert.equal(s.res.statusCode, 200);
    assert.equal(s.res.headers['content-type'], 'text/event-stream; charset=UTF-8');
    assert.equal(s.res.headers.connection, 'close');
    assert.equal(s.res.headers['transfer-encoding'], undefined);
    assert.equal(s.res.headers['content-length'], undefined);
  });

  it('frames events with CRLF and sends a CRLF heartbeat', async () => {
    await start({ heartbeatMs: 25 });
    const s = await sse();
    d.register({ endpoint: 'dev1', queueMode: false });
    const ev = await s.waitFor('REGISTRATION');
    assert.ok(s.raw.startsWith(`event: REGISTRATION\r\ndata: ${ev.data}\r\n\r\n`), JSON.stringify(s.raw.slice(0, 40)));
    assert.deepEqual(Object.keys(JSON.parse(ev.data)), REG_KEYS);
    const before = s.raw.length;
    await sleep(80);
    assert.ok(s.raw.slice(before).length >= 2);
    assert.match(s.raw.slice(before), /^(\r\n)+$/);
  });

  it('a stream for ?ep=X alone still gets X', async () => {
    await start();
    const onlyA = await sse('?ep=a');
    d.register({ endpoint: 'b', queueMode: false });
    d.register({ endpoint: 'a', queueMode: false });
    await onlyA.waitFor('REGISTRATION');
    assert.deepEqual(
      onlyA.events.map((e) => JSON.parse(e.data).endpoint),
      ['a'],
    );
    assert.equal(d.streamCount(), 1);
  });

  it('?ep=X only gets X; NOTIFICATION and UPDATED shapes', async () => {
    await start();
    const all = await sse();
    const onlyA = await sse('?ep=a');
    d.register({ endpoint: 'a', queueMode: false });
    d.register({ endpoint: 'b', queueMode: false });
    d.notify('b', '/3303/0/5700', { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '24.9' });
    d.update('a', { lifetime: 60 });
    d.emit('COAPLOG', { timestamp: 1, incoming: true, type: 'CON', code: 'POST', mId: 1, token: '00', ep: 'b' });
    const n = await all.waitFor('NOTIFICATION');
    assert.equal(
      n.data,
      '{"ep":"b","kind":"single","res":"/3303/0/5700","val":{"id":5700,"kind":"singleResource","type":"FLOAT","value":"24.9"}}',
    );
    const u = JSON.parse((await onlyA.waitFor('UPDATED')).data) as { registration: object; update: object };
    assert.deepEqual(Object.keys(u), ['registration', 'update']);
    assert.deepEqual(Object.keys(u.update), ['registrationId', 'address', 'lifetime', 'secure', 'additionalAttributes']);
    await all.waitFor('COAPLOG');
    assert.deepEqual(onlyA.names(), ['REGISTRATION', 'UPDATED']);
    assert.deepEqual(all.names(), ['REGISTRATION', 'REGISTRATION', 'NOTIFICATION', 'UPDATED', 'COAPLOG']);
  });
});

describe('leshanDouble: presence (§5.1)', () => {
  it('AWAKE/SLEEPING only on transitions, AWAKE before REGISTRATION/UPDATED', async () => {
    await start({ awakeMs: 60 });
    const s = await sse();
    d.register({ endpoint: 'q1', queueMode: true });
    d.update('q1');
    await s.waitFor('UPDATED');
    assert.deepEqual(s.names().slice(0, 3), ['AWAKE', 'REGISTRATION', 'UPDATED']);
    await s.waitFor('SLEEPING');
    assert.equal(parse(await call(d, 'GET', '/q1')).sleeping, true);
    d.update('q1');
    d.sleep('q1');
    d.sleep('q1');
    d.wake('q1');
    d.notify('q1', '/3/0/9', { id: 9, kind: 'singleResource', type: 'INTEGER', value: '80' });
    await s.waitFor('NOTIFICATION');
    assert.deepEqual(s.names().slice(4, 9), ['AWAKE', 'UPDATED', 'SLEEPING', 'AWAKE', 'NOTIFICATION']);
    d.register({ endpoint: 'plain', queueMode: false });
    d.sleep('plain');
    await s.waitFor('REGISTRATION', (e) => e.endpoint === 'plain');
    assert.equal(s.events.filter((e) => e.data === '{"ep":"plain"}').length, 0);
    assert.equal(d.isAwake('plain'), true);
  });

  it("a notification does not wake a sleeping device (as Leshan's presence service, built with updateRegistrationOnNotification = false)", async () => {
    await start();
    d.register({ endpoint: 'q2', queueMode: true });
    d.sleep('q2');
    d.notify('q2', '/3303/0/5700', { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21.5' });
    assert.equal(d.isAwake('q2'), false);
    const r = await call(d, 'GET', '/q2/3/0/9');
    assert.equal(r.status, 400);
    assert.equal(r.text, SLEEPING_TEXT);
  });

  it('reads a resource nobody scripted with a value of the type its object model gives', async () => {
    await start();
    d.register({ endpoint: 'plain2', queueMode: false });
    const content = (path: string) => async () => parse(await call(d, 'GET', `/plain2${path}`)).content as Record<string, unknown>;
    assert.deepEqual(await content('/3303/0/5700')(), { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21.5' });
    assert.deepEqual(await content('/3/0/9')(), { id: 9, kind: 'singleResource', type: 'INTEGER', value: '0' });
    assert.deepEqual(await content('/3/0/0')(), { id: 0, kind: 'singleResource', type: 'STRING', value: 'x' });
    assert.equal(((await content('/40000/0/1')()) as { type: string }).type, 'STRING', 'no model: STRING');
  });

  it('a device response restarts the awake timer', async () => {
    await start({ awakeMs: 300 });
    const s = await sse();
    d.register({ endpoint: 'q1', queueMode: true });
    await sleep(150);
    assert.equal((await call(d, 'GET', '/q1/3/0/1')).status, 200);
    await sleep(200); // 350 ms after registration: asleep without the refresh
    assert.equal(d.isAwake('q1'), true);
    await s.waitFor('SLEEPING');
  });

  it('deregistration: DEREGISTRATION without SLEEPING; re-registration replaces', async () => {
    await start();
    const s = await sse();
    d.register({ endpoint: 'q1', queueMode: true });
    d.register({ endpoint: 'q1', queueMode: true });
    d.deregister('q1');
    await s.waitFor('DEREGISTRATION', (e) => e.sleeping === true);
    await sleep(10);
    assert.deepEqual(s.names(), ['AWAKE', 'REGISTRATION', 'DEREGISTRATION', 'AWAKE', 'REGISTRATION', 'DEREGISTRATION']);
    assert.equal(d.isRegistered('q1'), false);
  });
});

describe('leshanDouble: setDown', () => {
  it('refuses connections while down and comes back on the same port', { timeout: 3000 }, async () => {
    await start();
    d.register({ endpoint: 'dev1', queueMode: false });
    const s = await sse();
    const closed = new Promise((resolve) => s.res.on('close', resolve));
    await d.setDown(true);
    await closed;
    await assert.rejects(fetch(`${d.url}/api/clients`), TypeError);
    await d.setDown(false);
    assert.equal((await call(d, 'GET', '/dev1/3/0/1')).status, 200);
  });
});

describe('leshanDouble: faults (only when a test asks)', () => {
  /** Status, headers and body bytes of one raw request, with when the first and last bytes came. */
  function rawGet(
    path: string,
    method = 'GET',
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; text: string; firstMs: number; endMs: number }> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request(`${d.url}/api/clients${path}`, { method, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let firstMs = -1;
        res.on('data', (c: Buffer) => {
          if (firstMs < 0) firstMs = performance.now() - t0;
          chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            bytes: body.length,
            text: body.toString('utf8'),
            firstMs,
            endMs: performance.now() - t0,
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it(
    "drip: Leshan's own status, headers and body, one byte at a time; the request still reached the device",
    { timeout: 5000 },
    async () => {
      await start();
      d.register({ endpoint: 'dev1', queueMode: false });
      const normal = await call(d, 'POST', '/dev1/3/0/4');
      d.fault({ kind: 'drip', everyMs: 5 });
      const r = await rawGet('/dev1/3/0/4', 'POST');
      assert.equal(r.status, 200);
      assert.equal(r.text, normal.text, 'the same answer, only slower');
      assert.equal(r.headers['content-length'], String(Buffer.byteLength(normal.text)));
      assert.ok(r.endMs >= r.bytes * 5 * 0.8, `${r.bytes} bytes in ${r.endMs} ms`);
      assert.equal(d.delivered('dev1').length, 2);
    },
  );

  it('huge: exactly the bytes asked, valid JSON, with Content-Length or chunked', { timeout: 10_000 }, async () => {
    await start();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.fault({ kind: 'huge', bytes: 300_000 }, { times: 1 });
    d.fault({ kind: 'huge', bytes: 300_000, chunked: true }, { times: 1 });
    const sized = await rawGet('/dev1/3/0/1');
    assert.deepEqual([sized.status, sized.bytes, sized.headers['content-length']], [200, 300_000, '300000']);
    const value = (JSON.parse(sized.text) as { content: { value: string } }).content.value;
    assert.match(value, /^x+$/);
    const chunked = await rawGet('/dev1/3/0/1');
    assert.deepEqual(
      [chunked.bytes, chunked.headers['content-length'], chunked.headers['transfer-encoding']],
      [300_000, undefined, 'chunked'],
    );
    assert.equal(d.faultBytesWritten(), 600_000);
    assert.equal((await call(d, 'GET', '/dev1/3/0/1')).text.length < 200, true, 'times: 1 each, then Leshan again');
  });

  it('raw and hang apply to the matching requests only; clearFaults ends them', { timeout: 5000 }, async () => {
    await start();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.fault({ kind: 'raw', status: 502, contentType: 'text/plain', body: 'bad gateway' }, { match: (r) => r.path === '/dev1/3/0/1' });
    d.fault({ kind: 'hang' }, { match: (r) => r.method === 'DELETE' });
    assert.deepEqual([(await call(d, 'GET', '/dev1/3/0/1')).status, (await call(d, 'GET', '/dev1/3/0/1')).text], [502, 'bad gateway']);
    assert.equal((await call(d, 'GET', '/dev1/3/0/2')).status, 200);
    const hung = await Promise.race([call(d, 'DELETE', '/dev1/3303/0'), sleep(300).then(() => 'no answer')]);
    assert.equal(hung, 'no answer');
    d.clearFaults();
    assert.equal((await call(d, 'GET', '/dev1/3/0/1')).status, 200);
  });

  it('streamFault: new streams get a line that never ends; emitRaw writes to the normal ones as is', { timeout: 5000 }, async () => {
    await start({ heartbeatMs: 1000 });
    const normal = await sse();
    d.streamFault({ kind: 'endlessLine', chunkBytes: 1000, everyMs: 5 });
    const endless = await sse();
    await sleep(100);
    assert.equal(endless.res.statusCode, 200);
    assert.equal(endless.res.headers['content-type'], 'text/event-stream; charset=UTF-8');
    assert.ok(endless.raw.length >= 5000 && /^x+$/.test(endless.raw), `${endless.raw.length} bytes`);
    assert.equal(d.streamCount(), 2);
    d.emitRaw('event: AWAKE\r\ndata: {"ep":"r"}\r\n\r\n');
    await normal.waitFor('AWAKE');
    assert.ok(!endless.raw.includes('AWAKE'));
    d.streamFault(undefined);
    const again = await sse();
    d.register({ endpoint: 'dev1', queueMode: false });
    await again.waitFor('REGISTRATION');
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { sendingOp } from '../support/operations.js';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { LeshanClient, type LeshanClientOptions, type SendResult } from '../../src/leshan/client.js';
import type { LogSink } from '../../src/log/logger.js';
import type { AttemptResult } from '../../src/leshan/responses.js';
import { createLogger } from '../../src/log/logger.js';
import type { Operation } from '../../src/operations/operation.js';
import { startLeshanDouble, type LeshanDouble, type LeshanDoubleOptions, type RecordedRequest } from '../../tools/leshanDouble.js';

const op = sendingOp;

const doubles: LeshanDouble[] = [];
const clients: LeshanClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const d of doubles.splice(0)) await d.close();
});

async function leshan(opts: LeshanDoubleOptions = {}): Promise<LeshanDouble> {
  const d = await startLeshanDouble({ timeScale: 0.01, ...opts });
  doubles.push(d);
  return d;
}

function client(d: LeshanDouble, opts: Partial<LeshanClientOptions> = {}): LeshanClient {
  const c = new LeshanClient({ url: d.url, requestTimeoutS: 5, connections: 4, ...opts });
  clients.push(c);
  return c;
}

async function waitUntil(pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await delay(5);
  }
}

/** The single request the double received since the last call, with the fields a client controls. */
function lastRequest(d: LeshanDouble): RecordedRequest {
  assert.equal(d.requests.length, 1, `expected one request, got ${d.requests.map((r) => r.url).join(', ')}`);
  const r = d.requests[0]!;
  d.clearRequests();
  return r;
}

function wire(r: RecordedRequest) {
  return {
    method: r.method,
    url: r.url,
    path: r.path,
    query: r.query,
    contentType: r.headers['content-type'],
    contentLength: r.headers['content-length'],
    transferEncoding: r.headers['transfer-encoding'],
    body: r.body,
  };
}

function confirmed(s: SendResult): NonNullable<Extract<AttemptResult, { kind: 'confirmed' }>['result']> {
  assert.equal(s.attempt.kind, 'confirmed', JSON.stringify(s.attempt));
  return (s.attempt as Extract<AttemptResult, { kind: 'confirmed' }>).result;
}

describe('LeshanClient: each kind on the wire (against the Leshan double)', () => {
  it('write: PUT with the node JSON and an explicit Content-Length', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d);
    const s = await c.send(op({ kind: 'write', path: '/3/0/14', type: 'STRING', value: 'Zürich' }));
    assert.deepEqual(confirmed(s), { status: 'CHANGED(204)', code: 204 });
    const r = lastRequest(d);
    const body = '{"id":14,"kind":"singleResource","type":"STRING","value":"Z\\u00fcrich"}';
    assert.deepEqual(wire(r), {
      method: 'PUT',
      url: '/api/clients/dev1/3/0/14?timeout=5',
      path: '/dev1/3/0/14',
      query: { timeout: '5' },
      contentType: 'application/json',
      contentLength: String(body.length),
      transferEncoding: undefined,
      body,
    });
    assert.deepEqual([r.op, r.lwm2mPath, r.delivered, r.status], ['write', '/3/0/14', true, 200]);
    assert.deepEqual(r.json, { id: 14, kind: 'singleResource', type: 'STRING', value: 'Zürich' });
  });

  it('write of every type and of a multi-instance resource is accepted by the double', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d);
    const writes: Array<[string, Operation['type'], unknown]> = [
      ['/1/0/1', 'INTEGER', 300],
      ['/3/0/21', 'UNSIGNED_INTEGER', '18446744073709551615'],
      ['/3303/0/5700', 'FLOAT', '21.5'],
      ['/1/0/6', 'BOOLEAN', 'true'],
      ['/3/0/13', 'TIME', '2024-08-30T06:40:00Z'],
      ['/5/0/0', 'OPAQUE', 'CAFE01'],
      ['/3/0/22', 'OBJLNK', '3303:0'],
      ['/3/0/23', 'CORELINK', '</3/0>'],
      ['/16/0/0', 'STRING', { 0: 'aa', 1: 'bb' }],
      ['/16/0/0/1', 'STRING', 'bb'],
    ];
    for (const [path, type, value] of writes) {
      const s = await c.send(op({ kind: 'write', path, type, value }));
      assert.equal(confirmed(s).code, 204, `${type} at ${path}`);
    }
    assert.deepEqual(
      d.delivered('dev1').map((r) => r.json),
      [
        { id: 1, kind: 'singleResource', type: 'INTEGER', value: '300' },
        { id: 21, kind: 'singleResource', type: 'UNSIGNED_INTEGER', value: '18446744073709551615' },
        { id: 5700, kind: 'singleResource', type: 'FLOAT', value: 21.5 },
        { id: 6, kind: 'singleResource', type: 'BOOLEAN', value: true },
        { id: 13, kind: 'singleResource', type: 'TIME', value: 1725000000000 },
        { id: 0, kind: 'singleResource', type: 'OPAQUE', value: 'cafe01' },
        { id: 22, kind: 'singleResource', type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 0 } },
        { id: 23, kind: 'singleResource', type: 'CORELINK', value: '</3/0>' },
        { id: 0, kind: 'multiResource', type: 'STRING', values: { 0: 'aa', 1: 'bb' } },
        { id: 1, kind: 'resourceInstance', type: 'STRING', value: 'bb' },
      ],
    );
  });

  it('execute: arguments as a fixed-length text/plain body, which Leshan reads', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d);
    assert.deepEqual(confirmed(await c.send(op({ kind: 'execute', path: '/3/0/4', args: "0='v1',1" }))), {
      status: 'CHANGED(204)',
      code: 204,
    });
    const r = lastRequest(d);
    assert.deepEqual(wire(r), {
      method: 'POST',
      url: '/api/clients/dev1/3/0/4?timeout=5',
      path: '/dev1/3/0/4',
      query: { timeout: '5' },
      contentType: 'text/plain; charset=UTF-8',
      contentLength: '8',
      transferEncoding: undefined,
      body: "0='v1',1",
    });
    assert.deepEqual([r.op, r.args], ['execute', "0='v1',1"]);

    assert.equal(confirmed(await c.send(op({ kind: 'execute', path: '/5/0/2' }))).code, 204);
    const none = lastRequest(d);
    assert.deepEqual(wire(none), {
      method: 'POST',
      url: '/api/clients/dev1/5/0/2?timeout=5',
      path: '/dev1/5/0/2',
      query: { timeout: '5' },
      contentType: undefined,
      contentLength: '0',
      transferEncoding: undefined,
      body: '',
    });
    assert.deepEqual([none.op, none.args], ['execute', null]);
  });

  it('read: GET, confirmed with the content node', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const content = { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '24.9' };
    d.answer('dev1', '/3303/0/5700', { kind: 'success', content });
    const c = client(d);
    assert.deepEqual(confirmed(await c.send(op({ kind: 'read', path: '/3303/0/5700' }))), { status: 'CONTENT(205)', code: 205, content });
    assert.deepEqual(wire(lastRequest(d)), {
      method: 'GET',
      url: '/api/clients/dev1/3303/0/5700?timeout=5',
      path: '/dev1/3303/0/5700',
      query: { timeout: '5' },
      contentType: undefined,
      contentLength: undefined,
      transferEncoding: undefined,
      body: '',
    });
    const obj = confirmed(await c.send(op({ kind: 'read', path: '/3' })));
    assert.equal((obj.content as { kind: string }).kind, 'obj');
  });

  it('observe then active cancel: the observation exists on the server, then is gone', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d);
    const content = { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21' };
    d.answer('dev1', '/3303/0/5700', { kind: 'success', content });
    assert.deepEqual(confirmed(await c.send(op({ kind: 'observe', path: '/3303/0/5700' }))), {
      status: 'CONTENT(205)',
      code: 205,
      content,
    });
    assert.deepEqual(wire(lastRequest(d)), {
      method: 'POST',
      url: '/api/clients/dev1/3303/0/5700/observe?timeout=5',
      path: '/dev1/3303/0/5700/observe',
      query: { timeout: '5' },
      contentType: undefined,
      contentLength: '0',
      transferEncoding: undefined,
      body: '',
    });
    assert.deepEqual(d.observations('dev1'), ['/3303/0/5700']);

    const cancel = confirmed(await c.send(op({ kind: 'cancel-observe', path: '/3303/0/5700' })));
    assert.equal(cancel.code, 205);
    const r = lastRequest(d);
    assert.deepEqual(wire(r), {
      method: 'DELETE',
      url: '/api/clients/dev1/3303/0/5700/observe?active&timeout=5',
      path: '/dev1/3303/0/5700/observe',
      query: { active: '', timeout: '5' },
      contentType: undefined,
      contentLength: undefined,
      transferEncoding: undefined,
      body: '',
    });
    assert.equal(r.delivered, true, 'an active cancel reaches the device');
    assert.deepEqual(d.observations('dev1'), []);
    // No observation left: Leshan answers 404 with a text.
    const again = await c.send(op({ kind: 'cancel-observe', path: '/3303/0/5700' }));
    assert.deepEqual(again.attempt, {
      kind: 'notDelivered',
      reason: 'invalidRequest',
      httpStatus: 404,
      message: "Leshan holds no such observation (404 no observation for path /3303/0/5700 for client 'dev1')",
    });
  });

  it('delete: DELETE of an object instance', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d, { requestTimeoutS: 30 });
    assert.deepEqual(confirmed(await c.send(op({ kind: 'delete', path: '/3303/1' }))), { status: 'DELETED(202)', code: 202 });
    const r = lastRequest(d);
    assert.deepEqual(
      [r.method, r.url, r.op, r.lwm2mPath, r.headers['content-length']],
      ['DELETE', '/api/clients/dev1/3303/1?timeout=30', 'delete', '/3303/1', undefined],
    );
  });
});

describe('LeshanClient: outcomes', () => {
  it('a device error (4.04) is deviceError 404', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.answer('dev1', '/5/0/1', { kind: 'deviceError', code: 404, errormessage: 'no firmware object' });
    const s = await client(d).send(op({ kind: 'write', path: '/5/0/1', type: 'STRING', value: 'coap://x/fw.bin' }));
    assert.deepEqual(s.attempt, {
      kind: 'deviceError',
      code: 404,
      result: { status: 'NOT_FOUND(404)', code: 404, errormessage: 'no firmware object' },
    });
  });

  it('a device timeout is a 504 timeout, answered by Leshan (scaled) long before undici would give up', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.answer('dev1', '/3/0/1', { kind: 'timeout' });
    const s = await client(d).send(op({ kind: 'read', path: '/3/0/1' }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'timeout',
      httpStatus: 504,
      message: 'Leshan: device did not answer within 5 s (504 Request timeout)',
    });
    assert.ok(s.ms >= 45 && s.ms < 1000, `answered after ${s.ms} ms (double: 5 s scaled to 50 ms)`);
  });

  it(
    "requestTimeoutS + margin is the deadline: Leshan's 504 at 1 s arrives; a Leshan stuck past it is a counted timeout",
    { timeout: 10_000 },
    async () => {
      const d = await leshan({ timeScale: 1 });
      d.register({ endpoint: 'dev1', queueMode: false });
      d.answer('dev1', '/3/0/1', { kind: 'timeout' });
      const c = client(d, { requestTimeoutS: 1, timeoutMarginS: 0.5 });
      const s = await c.send(op({ kind: 'read', path: '/3/0/1' }));
      assert.equal(s.attempt.kind === 'notDelivered' && s.attempt.reason, 'timeout', JSON.stringify(s.attempt));
      assert.ok(s.ms >= 950 && s.ms < 1450, `504 after ${s.ms} ms`);

      // Leshan itself would answer only after 4 s: cut at the deadline (1.5 s), counted like Leshan's own timeout.
      const slow = await leshan({ timeScale: 4 });
      slow.register({ endpoint: 'dev1', queueMode: false });
      slow.answer('dev1', '/3/0/1', { kind: 'timeout' });
      const stuck = await client(slow, { requestTimeoutS: 1, timeoutMarginS: 0.5 }).send(op({ kind: 'read', path: '/3/0/1' }));
      assert.deepEqual(stuck.attempt, {
        kind: 'notDelivered',
        reason: 'timeout',
        httpStatus: 0,
        message: 'Leshan: no complete answer within 1.5 s (Leshan stuck past its own timeout)',
      });
      assert.ok(stuck.ms >= 1450 && stuck.ms < 1800, `gave up after ${stuck.ms} ms`);
    },
  );

  it('a sleeping queue-mode client (M15) is "sleeping"; nothing reaches the device', async () => {
    const d = await leshan();
    d.register({ endpoint: 'q1', queueMode: true });
    d.sleep('q1');
    const s = await client(d).send(op({ ep: 'q1', kind: 'write', path: '/1/0/1', type: 'INTEGER', value: 60 }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'sleeping',
      httpStatus: 400,
      message: 'Leshan: device is sleeping, request not sent (400)',
    });
    assert.equal(d.delivered().length, 0);
  });

  it('an unknown endpoint is "notRegistered", on read (upper case) and execute (M15 lower case)', async () => {
    const d = await leshan();
    const c = client(d);
    for (const o of [op({ ep: 'ghost', kind: 'read', path: '/3/0/1' }), op({ ep: 'ghost', kind: 'execute', path: '/3/0/4' })]) {
      assert.deepEqual((await c.send(o)).attempt, {
        kind: 'notDelivered',
        reason: 'notRegistered',
        httpStatus: 400,
        message: 'Leshan: endpoint is not registered (400)',
      });
    }
    assert.deepEqual(
      d.requests.map((r) => r.body),
      ['', ''],
    );
  });

  it('Leshan master with a sleeping client: delayed, with the requestId Leshan gave', async () => {
    const d = await leshan({ mode: 'LM' });
    d.register({ endpoint: 'q1', queueMode: true });
    d.sleep('q1');
    const s = await client(d).send(op({ ep: 'q1', kind: 'execute', path: '/3/0/4' }));
    const requestId = d.requests.at(-1)?.requestId;
    assert.ok(requestId);
    assert.deepEqual(s.attempt, { kind: 'delayed', requestId });
    assert.equal(d.delivered().length, 0);
  });

  it("a CoAP RST is a serverError keeping Leshan's text", async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.answer('dev1', '/3/0/4', { kind: 'rst', message: 'device said no' });
    const s = await client(d).send(op({ kind: 'execute', path: '/3/0/4' }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'serverError',
      httpStatus: 500,
      message: 'Leshan: Request rejected: device said no (500)',
    });
  });

  it('Leshan down is unreachable (not thrown); the same client works again once it is back', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d);
    assert.equal((await c.send(op({ kind: 'read', path: '/3/0/1' }))).attempt.kind, 'confirmed'); // a kept-alive connection
    await d.setDown(true);
    for (let i = 0; i < 2; i++) {
      const s = await c.send(op({ kind: 'write', path: '/3/0/14', type: 'STRING', value: 'a' }));
      assert.equal(s.attempt.kind, 'unreachable', JSON.stringify(s.attempt));
      assert.match(
        (s.attempt as { message: string }).message,
        /^Leshan unreachable: .*(ECONNREFUSED|other side closed|UND_ERR_SOCKET|ECONNRESET)/,
      );
    }
    await d.setDown(false);
    assert.equal((await c.send(op({ kind: 'read', path: '/3/0/1' }))).attempt.kind, 'confirmed');
  });

  it('no server at all (connection refused) is unreachable', async () => {
    const d = await leshan();
    const url = d.url;
    await d.close();
    const c = new LeshanClient({ url, requestTimeoutS: 5, connections: 1 });
    clients.push(c);
    const s = await c.send(op({ kind: 'read', path: '/3/0/1' }));
    assert.equal(s.attempt.kind, 'unreachable');
    assert.match((s.attempt as { message: string }).message, /ECONNREFUSED/);
    await assert.rejects(c.listClients(), /^Error: Leshan unreachable: .*ECONNREFUSED/);
  });

  it('after close(), send still answers (unreachable) instead of throwing', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d);
    await c.close();
    const s = await c.send(op({ kind: 'read', path: '/3/0/1' }));
    assert.equal(s.attempt.kind, 'unreachable');
    assert.equal(d.requests.length, 0);
    await c.close(); // idempotent
  });
});

describe('LeshanClient: a hostile or broken Leshan (deadline, size cap, depth)', () => {
  /** A registered dev1 on a double whose answers to /3/0/1 misbehave. */
  async function faulty(fault: Parameters<LeshanDouble['fault']>[0]): Promise<LeshanDouble> {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.fault(fault);
    return d;
  }

  it('a dripping answer (a byte every 100 ms) ends at the deadline, headers and body together', { timeout: 5000 }, async () => {
    const d = await faulty({ kind: 'drip', everyMs: 100 });
    const c = client(d, { requestTimeoutS: 1, timeoutMarginS: 0.2 });
    // undici's per-chunk bodyTimeout never fires on a drip: only an overall deadline ends it
    const s = await c.send(op({ kind: 'read', path: '/3/0/1' }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'timeout',
      httpStatus: 200,
      message: 'Leshan: HTTP 200, no complete answer within 1.2 s (Leshan stuck past its own timeout)',
    });
    assert.ok(s.ms >= 1150 && s.ms < 1600, `ended after ${s.ms} ms`);
    assert.equal(d.delivered('dev1').length, 1, 'the request reached the device; only the answer dripped');
  });

  it('a dripping answer to an execute fails it (unknown outcome): the device may have run it', { timeout: 5000 }, async () => {
    const d = await faulty({ kind: 'drip', everyMs: 100 });
    const s = await client(d, { requestTimeoutS: 1, timeoutMarginS: 0.2 }).send(op({ kind: 'execute', path: '/3/0/4' }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'unknownOutcome',
      httpStatus: 200,
      message: 'Leshan: HTTP 200, no complete answer within 1.2 s after the execute was sent: the device may have run it',
    });
  });

  it('no headers at all: the same deadline', { timeout: 5000 }, async () => {
    const d = await faulty({ kind: 'hang' });
    const s = await client(d, { requestTimeoutS: 1, timeoutMarginS: 0.2 }).send(
      op({ kind: 'write', path: '/3/0/14', type: 'STRING', value: 'x' }),
    );
    assert.equal(s.attempt.kind === 'notDelivered' && s.attempt.reason, 'timeout', JSON.stringify(s.attempt));
    assert.ok(s.ms >= 1150 && s.ms < 1600, `ended after ${s.ms} ms`);
  });

  it(
    'a 64 MiB answer is cut at maxResponseBytes: an unexpected answer, nothing kept, the rest never read',
    { timeout: 20_000 },
    async () => {
      for (const chunked of [false, true]) {
        const d = await faulty({ kind: 'huge', bytes: 64 * 1024 * 1024, chunked });
        const c = client(d, { maxResponseBytes: 1024 * 1024 });
        const s = await c.send(op({ kind: 'read', path: '/3/0/1' }));
        assert.equal(s.attempt.kind, 'notDelivered', JSON.stringify(s.attempt).slice(0, 300));
        assert.equal(s.attempt.kind === 'notDelivered' && s.attempt.reason, 'other');
        assert.equal((s.attempt as { httpStatus: number }).httpStatus, 200);
        // with Content-Length: refused from the header; chunked: after reading just past the cap
        const expected = chunked
          ? /^Leshan: unexpected answer \(HTTP 200, answer larger than 1048576 bytes \(maxResponseBytes\); not kept\)$/
          : /larger than 1048576 bytes/;
        assert.match((s.attempt as { message: string }).message, expected);
        assert.ok(s.ms < 3000, `took ${s.ms} ms`);
        await delay(100);
        const sent = d.faultBytesWritten();
        assert.ok(
          sent < 16 * 1024 * 1024,
          `${chunked ? 'chunked' : 'with length'}: the double wrote ${sent} bytes before the client hung up`,
        );
      }
    },
  );

  it('an answer just under the cap is read whole', async () => {
    const d = await faulty({ kind: 'huge', bytes: 200_000 });
    const s = await client(d, { maxResponseBytes: 200_000 }).send(op({ kind: 'read', path: '/3/0/1' }));
    assert.equal(s.attempt.kind, 'confirmed');
    assert.ok((s.attempt as { result: { content: { value: string } } }).result.content.value.length > 199_800);
  });

  it('content nested 100 000 levels deep is an unexpected answer, never kept (and nothing recurses)', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const d = await faulty({
      kind: 'raw',
      body: `{"status":"CONTENT(205)","valid":true,"success":true,"failure":false,"content":${deep}}`,
    });
    const s = await client(d).send(op({ kind: 'read', path: '/3/0/1' }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'other',
      httpStatus: 200,
      message: 'Leshan: unexpected answer (200, JSON nested deeper than 64 levels; not kept)',
    });
  });

  it('listClients has the same deadline, cap and depth limit', { timeout: 8000 }, async () => {
    const list = (r: { path: string }): boolean => r.path === '';
    const d = await leshan();
    const c = client(d, { requestTimeoutS: 1, timeoutMarginS: 0.2, maxResponseBytes: 4096 });
    d.fault({ kind: 'drip', everyMs: 500 }, { match: list, times: 1 });
    d.register({ endpoint: 'dev1', queueMode: false });
    const t0 = performance.now();
    await assert.rejects(c.listClients(), /^Error: Leshan: GET \/api\/clients: HTTP 200, no complete answer within 1\.2 s$/);
    assert.ok(performance.now() - t0 < 1600);
    d.fault({ kind: 'huge', bytes: 100_000 }, { match: list, times: 1 });
    await assert.rejects(c.listClients(), /answer larger than 4096 bytes/);
    d.fault({ kind: 'raw', body: '['.repeat(65) + ']'.repeat(65) }, { match: list, times: 1 });
    await assert.rejects(c.listClients(), /nested deeper than 64 levels/);
    assert.equal((await c.listClients()).length, 1, 'and a normal answer again');
  });

  it(
    'abort() ends the requests in flight at once: a write back to unreachable, a sent execute unknown; later sends unreachable',
    { timeout: 5000 },
    async () => {
      const d = await faulty({ kind: 'hang' });
      const c = client(d, { requestTimeoutS: 30 });
      const write = c.send(op({ kind: 'write', path: '/3/0/14', type: 'STRING', value: 'x' }));
      const exec = c.send(op({ kind: 'execute', path: '/3/0/4' }));
      const listed = c.listClients().then(
        () => 'resolved',
        (err: unknown) => String(err),
      );
      await waitUntil(() => d.requests.length === 3);
      const t0 = performance.now();
      await c.abort();
      const [w, e] = await Promise.all([write, exec]);
      assert.equal(await listed, 'Error: Leshan unreachable: request aborted: the daemon is stopping');
      assert.ok(performance.now() - t0 < 200, `abort took ${performance.now() - t0} ms`);
      assert.deepEqual(w.attempt, { kind: 'unreachable', message: 'Leshan unreachable: request aborted: the daemon is stopping' });
      assert.equal(e.attempt.kind === 'notDelivered' && e.attempt.reason, 'unknownOutcome');
      d.clearRequests();
      const later = await c.send(op({ kind: 'execute', path: '/3/0/4' }));
      assert.equal(later.attempt.kind, 'unreachable', 'nothing was sent: safe to repeat, even an execute');
      assert.equal(d.requests.length, 0);
      await c.abort(); // idempotent
    },
  );
});

describe('LeshanClient: endpoint names, base URL, pool, log', () => {
  it('names with spaces, reserved characters and Unicode reach Leshan intact', async () => {
    const d = await leshan();
    const names = ['dev 1', 'é☃ 🌍', 'a?b#c&d=e;f', '50% off', "urn:imei:35-209900-176148-1 'x'"];
    for (const endpoint of names) d.register({ endpoint, queueMode: false });
    const c = client(d);
    for (const ep of names) {
      const s = await c.send(op({ ep, kind: 'execute', path: '/3/0/4' }));
      assert.equal(s.attempt.kind, 'confirmed', `${ep}: ${JSON.stringify(s.attempt)}`);
      const r = lastRequest(d);
      assert.deepEqual([r.ep, r.path, r.op], [ep, `/${ep}/3/0/4`, 'execute']);
      assert.deepEqual(r.query, { timeout: '5' });
    }
  });

  it("a name with '/' cannot be addressed: refused before sending, counted as an invalid request", async () => {
    const d = await leshan();
    d.register({ endpoint: 'a/b', queueMode: false });
    const s = await client(d).send(op({ ep: 'a/b', kind: 'read', path: '/3/0/1' }));
    assert.equal(s.attempt.kind, 'notDelivered');
    assert.deepEqual(
      [s.attempt.kind === 'notDelivered' && s.attempt.reason, (s.attempt as { httpStatus: number }).httpStatus],
      ['invalidRequest', 0],
    );
    assert.match((s.attempt as { message: string }).message, /^not sent: endpoint "a\/b" contains '\/'/);
    assert.equal(d.requests.length, 0);
    // Why: Jetty refuses an encoded '/', and a raw one would split the endpoint name.
    const raw = await fetch(`${d.url}/api/clients/${encodeURIComponent('a/b')}/3/0/1`);
    assert.equal(raw.status, 400);
    await raw.text();
  });

  it('keeps a path prefix of the base URL (e.g. behind a reverse proxy)', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const s = await client(d, { url: `${d.url}/prefix/` }).send(op({ kind: 'read', path: '/3/0/1' }));
    assert.deepEqual(s.attempt, {
      kind: 'notDelivered',
      reason: 'other',
      httpStatus: 404,
      message: 'Leshan: unexpected answer (404 Not Found)',
    });
    assert.equal(lastRequest(d).url, '/prefix/api/clients/dev1/3/0/1?timeout=5');
    assert.equal((await client(d, { url: `${d.url}/` }).send(op({ kind: 'read', path: '/3/0/1' }))).attempt.kind, 'confirmed');
  });

  it('uses at most `connections` connections at once', async () => {
    const d = await leshan({ latencyMs: 100 });
    d.register({ endpoint: 'dev1', queueMode: false });
    const c = client(d, { connections: 2, requestTimeoutS: 60 }); // 600 ms once scaled: above the latency
    const t0 = Date.now();
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => c.send(op({ kind: 'read', path: `/3/0/${i}` }))));
    const elapsed = Date.now() - t0;
    assert.deepEqual(
      all.map((s) => s.attempt.kind),
      Array(6).fill('confirmed'),
    );
    assert.ok(elapsed >= 290, `6 requests of 100 ms over 2 connections took ${elapsed} ms (3 rounds expected)`);
    // And they overlap when the pool allows it.
    const wide = client(d, { connections: 6, requestTimeoutS: 60 });
    const t1 = Date.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => wide.send(op({ kind: 'read', path: `/3/0/${i}` }))));
    assert.ok(Date.now() - t1 < 250, `6 parallel requests took ${Date.now() - t1} ms`);
  });

  it('a connection lost after the request left: unreachable for a write, unknown outcome for an execute', async () => {
    // a Leshan that takes the request and dies before answering
    const server = createServer((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new LeshanClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requestTimeoutS: 5, connections: 1 });
    clients.push(c);
    try {
      const write = await c.send(op({ kind: 'write', path: '/1/0/1', value: 60, type: 'INTEGER' }));
      assert.equal(write.attempt.kind, 'unreachable', 'a write can be repeated safely');
      const exec = await c.send(op({ kind: 'execute', path: '/3/0/4' }));
      assert.equal(exec.attempt.kind, 'notDelivered');
      assert.equal((exec.attempt as { reason: string }).reason, 'unknownOutcome');
      assert.match((exec.attempt as { message: string }).message, /may have run it/);
    } finally {
      server.close();
    }
  });

  it('listClients returns the registrations', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    d.register({ endpoint: 'q 1', queueMode: true });
    const list = (await client(d).listClients()) as Array<{ endpoint: string; queuemode: boolean }>;
    assert.deepEqual(
      list.map((r) => [r.endpoint, r.queuemode]),
      [
        ['dev1', false],
        ['q 1', true],
      ],
    );
    assert.equal(lastRequest(d).url, '/api/clients');
  });

  it('logs each attempt at debug, an unexpected answer at warn', async () => {
    const d = await leshan();
    d.register({ endpoint: 'dev1', queueMode: false });
    const lines: Array<[string, Record<string, unknown>, string | undefined]> = [];
    const log: LogSink = {
      debug: (o, m) => void lines.push(['debug', o as Record<string, unknown>, m]),
      info: (o, m) => void lines.push(['info', o as Record<string, unknown>, m]),
      warn: (o, m) => void lines.push(['warn', o as Record<string, unknown>, m]),
      error: (o, m) => void lines.push(['error', o as Record<string, unknown>, m]),
    };
    const c = client(d, { log });
    await c.send(op({ id: '42', kind: 'read', path: '/3/0/1' }));
    // an answer no Leshan gives: a 401 from something in between
    const proxy = createServer((_req, res) => res.writeHead(401).end('who are you'));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const odd = new LeshanClient({
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      requestTimeoutS: 5,
      connections: 1,
      log,
    });
    clients.push(odd);
    await odd.send(op({ id: '43', kind: 'cancel-observe', path: '/3/0/1' }));
    proxy.close();
    assert.equal(lines.length, 2);
    const [first, second] = lines;
    assert.deepEqual([first?.[0], first?.[2]], ['debug', 'leshan attempt']);
    assert.deepEqual(
      { ...first?.[1], ms: 0 },
      { ep: 'dev1', id: '42', kind: 'read', path: '/3/0/1', method: 'GET', outcome: 'confirmed', ms: 0 },
    );
    assert.deepEqual([second?.[0], second?.[1].outcome, second?.[1].method], ['warn', 'other', 'DELETE']);
    assert.match(String(second?.[1].detail), /401 who are you/);
  });

  it("takes the daemon's pino logger", async () => {
    const d = await leshan();
    const out: string[] = [];
    const c = client(d, { log: createLogger('debug', { write: (line: string) => void out.push(line) }) });
    await c.send(op({ ep: 'ghost', kind: 'read', path: '/3/0/1' }));
    assert.equal(out.length, 1);
    const line = JSON.parse(out[0] ?? '') as Record<string, unknown>;
    assert.deepEqual([line.level, line.message, line.ep, line.outcome], ['debug', 'leshan attempt', 'ghost', 'notRegistered']);
  });

  it('refuses a bad configuration at construction', () => {
    assert.throws(() => new LeshanClient({ url: 'ftp://x', requestTimeoutS: 5, connections: 1 }), /must be http/);
    assert.throws(() => new LeshanClient({ url: 'http://127.0.0.1:1', requestTimeoutS: 0.5, connections: 1 }), /requestTimeoutS/);
    assert.throws(() => new LeshanClient({ url: 'http://127.0.0.1:1', requestTimeoutS: 5, connections: 0 }), /connections/);
  });
});

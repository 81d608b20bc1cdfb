// Section numbers (§) refer to docs/leshan-rest-api.md.
import assert from 'node:assert/strict';
import { sendingOp } from '../support/operations.js';
import { describe, it } from 'node:test';
import { buildRequest, LeshanRequestError, type LeshanRequest } from '../../src/leshan/requests.js';
import type { Operation } from '../../src/operations/operation.js';

const op = sendingOp;

/** A JSON write request with exactly these path and body. */
function put(path: string, body: string): LeshanRequest {
  return {
    method: 'PUT',
    path,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    body,
  };
}

function refuses(o: Operation, message: RegExp, timeoutS = 5): void {
  assert.throws(
    () => buildRequest(o, timeoutS),
    (e: unknown) => {
      assert.ok(e instanceof LeshanRequestError, `expected a LeshanRequestError, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('buildRequest: write (PUT, node JSON as Leshan 2.x deserializes it, §2.3)', () => {
  const cases: Array<[string, Operation['type'], unknown, string]> = [
    ['/3/0/14', 'STRING', '+02:00', '{"id":14,"kind":"singleResource","type":"STRING","value":"+02:00"}'],
    ['/1/0/1', 'INTEGER', 300, '{"id":1,"kind":"singleResource","type":"INTEGER","value":"300"}'],
    ['/1/0/1', 'INTEGER', '-9223372036854775808', '{"id":1,"kind":"singleResource","type":"INTEGER","value":"-9223372036854775808"}'],
    [
      '/3/0/21',
      'UNSIGNED_INTEGER',
      '18446744073709551615',
      '{"id":21,"kind":"singleResource","type":"UNSIGNED_INTEGER","value":"18446744073709551615"}',
    ],
    ['/3303/0/5700', 'FLOAT', '21.5', '{"id":5700,"kind":"singleResource","type":"FLOAT","value":21.5}'],
    ['/1/0/6', 'BOOLEAN', 'true', '{"id":6,"kind":"singleResource","type":"BOOLEAN","value":true}'],
    ['/1/0/6', 'BOOLEAN', false, '{"id":6,"kind":"singleResource","type":"BOOLEAN","value":false}'],
    ['/3/0/13', 'TIME', 1725000000000, '{"id":13,"kind":"singleResource","type":"TIME","value":1725000000000}'],
    ['/3/0/13', 'TIME', '2024-08-30T06:40:00Z', '{"id":13,"kind":"singleResource","type":"TIME","value":1725000000000}'],
    ['/5/0/0', 'OPAQUE', 'CAFE01', '{"id":0,"kind":"singleResource","type":"OPAQUE","value":"cafe01"}'],
    [
      '/3/0/22',
      'OBJLNK',
      { objectId: 3303, objectInstanceId: 0 },
      '{"id":22,"kind":"singleResource","type":"OBJLNK","value":{"objectId":3303,"objectInstanceId":0}}',
    ],
    ['/3/0/22', 'OBJLNK', '3303:1', '{"id":22,"kind":"singleResource","type":"OBJLNK","value":{"objectId":3303,"objectInstanceId":1}}'],
    ['/3/0/23', 'CORELINK', '</3/0>,</1/0>', '{"id":23,"kind":"singleResource","type":"CORELINK","value":"</3/0>,</1/0>"}'],
    ['/16/0/0/1', 'STRING', 'bb', '{"id":1,"kind":"resourceInstance","type":"STRING","value":"bb"}'],
    ['/16/0/0', 'STRING', { 0: 'aa', 1: 'bb' }, '{"id":0,"kind":"multiResource","type":"STRING","values":{"0":"aa","1":"bb"}}'],
    ['/16/0/0', 'INTEGER', { 7: 5, 2: '6' }, '{"id":0,"kind":"multiResource","type":"INTEGER","values":{"2":"6","7":"5"}}'],
    [
      '/16/0/0',
      'OBJLNK',
      { 0: '3:0', 1: { objectId: 1, objectInstanceId: 2 } },
      '{"id":0,"kind":"multiResource","type":"OBJLNK","values":{"0":{"objectId":3,"objectInstanceId":0},"1":{"objectId":1,"objectInstanceId":2}}}',
    ],
  ];
  for (const [path, type, value, body] of cases) {
    it(`${type} ${JSON.stringify(value)} at ${path}`, () => {
      const r = buildRequest(op({ kind: 'write', path, type, value }), 5);
      assert.deepEqual(r, put(`/api/clients/dev1${path}?timeout=5`, body));
    });
  }

  it('asks for the configured write content format, on writes only', () => {
    const write = buildRequest(op({ kind: 'write', path: '/1/0/1', value: '60' }), 5, { writeFormat: 'SENML_CBOR' });
    assert.equal(write.path, '/api/clients/dev1/1/0/1?format=SENML_CBOR&timeout=5');
    const read = buildRequest(op({ kind: 'read', path: '/1/0/1' }), 5, { writeFormat: 'SENML_CBOR' });
    assert.equal(read.path, '/api/clients/dev1/1/0/1?timeout=5');
  });

  it('takes the type from the object model when the operation has none', () => {
    const r = buildRequest(op({ kind: 'write', path: '/1/0/1', value: '60' }), 7);
    assert.deepEqual(r, put('/api/clients/dev1/1/0/1?timeout=7', '{"id":1,"kind":"singleResource","type":"INTEGER","value":"60"}'));
  });

  it('escapes non-ASCII in the body, so Leshan reads the same whatever charset it assumes', () => {
    const r = buildRequest(op({ kind: 'write', path: '/3/0/14', type: 'STRING', value: 'Zürich 🌍\u007f' }), 5);
    assert.equal(r.body, '{"id":14,"kind":"singleResource","type":"STRING","value":"Z\\u00fcrich \\ud83c\\udf0d\\u007f"}');
    assert.equal(r.headers['content-length'], String(r.body?.length));
    assert.deepEqual(JSON.parse(r.body ?? ''), { id: 14, kind: 'singleResource', type: 'STRING', value: 'Zürich 🌍\u007f' });
  });

  it('normalises the path and percent-encodes the endpoint name', () => {
    const r = buildRequest(op({ ep: 'dev 1', kind: 'write', path: '3/0/14/', type: 'STRING', value: 'a' }), 5);
    assert.equal(r.path, '/api/clients/dev%201/3/0/14?timeout=5');
  });

  it('refuses values and paths Leshan would refuse', () => {
    refuses(op({ kind: 'write', path: '/3/0', type: 'STRING', value: 'a' }), /write cannot target the instance path \/3\/0/);
    refuses(op({ kind: 'write', path: '/3', type: 'STRING', value: 'a' }), /write cannot target the object path \/3/);
    refuses(op({ kind: 'write', path: '/1/0/6', type: 'BOOLEAN', value: 'maybe' }), /^write \/1\/0\/6: .*BOOLEAN/);
    refuses(op({ kind: 'write', path: '/3/0/4', type: 'NONE', value: 'x' }), /write \/3\/0\/4: type NONE carries no value/);
    refuses(op({ kind: 'write', path: '/3/0/14', type: 'STRING' }), /write \/3\/0\/14: no value/);
    refuses(op({ kind: 'write', path: '/9999/0/1', value: 'a' }), /no type given and none in the object model/);
    refuses(op({ kind: 'write', path: '/16/0/0/1', type: 'STRING', value: { 0: 'a' } }), /write \/16\/0\/0\/1: .*STRING/);
    refuses(op({ kind: 'write', path: '/16/0/0', type: 'INTEGER', value: { 0: 1, 1: 'x' } }), /resource instance 1: .*INTEGER/);
    refuses(op({ kind: 'write', path: '/16/0/0', type: 'STRING', value: { 70000: 'a' } }), /out of range/);
    refuses(op({ kind: 'write', path: '/3/x/1', type: 'STRING', value: 'a' }), /^write: invalid path "\/3\/x\/1": segment 2/);
  });
});

describe('buildRequest: the other kinds', () => {
  it('execute with arguments: text/plain body with an explicit Content-Length', () => {
    const r = buildRequest(op({ kind: 'execute', path: '/3/0/4', args: "0='v1',1" }), 5);
    assert.deepEqual(r, {
      method: 'POST',
      path: '/api/clients/dev1/3/0/4?timeout=5',
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'content-length': '8' },
      body: "0='v1',1",
    });
  });

  it('execute without arguments: no body, Content-Length 0', () => {
    const expected: LeshanRequest = { method: 'POST', path: '/api/clients/dev1/5/0/2?timeout=30', headers: { 'content-length': '0' } };
    assert.deepEqual(buildRequest(op({ kind: 'execute', path: '/5/0/2' }), 30), expected);
    assert.deepEqual(buildRequest(op({ kind: 'execute', path: '/5/0/2', args: '' }), 30), expected);
  });

  it('read at every level', () => {
    for (const path of ['/3', '/3/0', '/3/0/1', '/16/0/0/1']) {
      assert.deepEqual(buildRequest(op({ kind: 'read', path }), 5), {
        method: 'GET',
        path: `/api/clients/dev1${path}?timeout=5`,
        headers: {},
      });
    }
  });

  it('observe: POST …/observe', () => {
    assert.deepEqual(buildRequest(op({ kind: 'observe', path: '/3303/0/5700' }), 5), {
      method: 'POST',
      path: '/api/clients/dev1/3303/0/5700/observe?timeout=5',
      headers: { 'content-length': '0' },
    });
    assert.equal(buildRequest(op({ kind: 'observe', path: '/3303' }), 5).path, '/api/clients/dev1/3303/observe?timeout=5');
  });

  it('cancel-observe: active DELETE …/observe?active', () => {
    assert.deepEqual(buildRequest(op({ kind: 'cancel-observe', path: '/3303/0/5700' }), 5), {
      method: 'DELETE',
      path: '/api/clients/dev1/3303/0/5700/observe?active&timeout=5',
      headers: {},
    });
  });

  it('delete: DELETE of an object instance', () => {
    assert.deepEqual(buildRequest(op({ kind: 'delete', path: '/3303/1' }), 5), {
      method: 'DELETE',
      path: '/api/clients/dev1/3303/1?timeout=5',
      headers: {},
    });
  });

  it('refuses kind/path combinations Leshan refuses', () => {
    refuses(op({ kind: 'execute', path: '/3/0' }), /^execute cannot target the instance path \/3\/0 \(Leshan allows: resource\)$/);
    refuses(op({ kind: 'execute', path: '/3/0/4/0' }), /execute cannot target the resourceInstance path/);
    refuses(op({ kind: 'delete', path: '/3303' }), /delete cannot target the object path \/3303/);
    refuses(op({ kind: 'delete', path: '/3303/0/1' }), /delete cannot target the resource path/);
    refuses(op({ kind: 'read', path: '' }), /read: invalid path "": path is empty/);
    refuses(op({ kind: 'bogus' as Operation['kind'], path: '/3' }), /unknown operation kind "bogus"/);
  });

  it('uses whole seconds for the timeout', () => {
    assert.equal(buildRequest(op({ kind: 'read', path: '/3/0/1' }), 1).path, '/api/clients/dev1/3/0/1?timeout=1');
    for (const t of [0, 1.5, -1, Number.NaN]) refuses(op({ kind: 'read', path: '/3/0/1' }), /timeout must be a whole number/, t);
  });
});

describe('buildRequest: endpoint names', () => {
  it('percent-encodes spaces, reserved characters and Unicode as one path segment', () => {
    const cases: Array<[string, string]> = [
      ['dev 1', 'dev%201'],
      ['a?b#c&d=e', 'a%3Fb%23c%26d%3De'],
      ['é☃🌍', '%C3%A9%E2%98%83%F0%9F%8C%8D'],
      ['50%', '50%25'],
      ['urn:imei:123', 'urn%3Aimei%3A123'],
    ];
    for (const [ep, encoded] of cases) {
      assert.equal(buildRequest(op({ ep, kind: 'read', path: '/3/0/1' }), 5).path, `/api/clients/${encoded}/3/0/1?timeout=5`);
    }
  });

  it('refuses names Leshan cannot address', () => {
    refuses(op({ ep: 'a/b', kind: 'read', path: '/3' }), /endpoint "a\/b" contains '\/'/);
    refuses(op({ ep: '', kind: 'read', path: '/3' }), /the endpoint name is empty/);
    refuses(op({ ep: '..', kind: 'read', path: '/3' }), /cannot be addressed/);
    refuses(op({ ep: 'bad\ud800', kind: 'read', path: '/3' }), /lone surrogate/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateCreate } from '../../src/operations/validate.js';
import { FieldError } from '../../src/lwm2m/fieldError.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const ok = (body: unknown, ep = 'dev', key?: string) => validateCreate(ep, body, key, NOW);
function fails(body: unknown, field: string, message: RegExp, ep = 'dev', key?: string): void {
  try {
    validateCreate(ep, body, key, NOW);
  } catch (err) {
    assert.ok(err instanceof FieldError, String(err));
    assert.equal(err.field, field, err.message);
    assert.match(err.message, message);
    return;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

describe('validateCreate', () => {
  it('takes a firmware URL write with the type from the object model, both path spellings', () => {
    assert.deepEqual(ok({ kind: 'write', path: '/5/0/1', value: 'https://x/fw.bin' }), {
      ep: 'dev',
      kind: 'write',
      path: '/5/0/1',
      value: 'https://x/fw.bin',
      type: 'STRING',
    });
    assert.equal(ok({ kind: 'write', path: '5/0/1', value: 'u' }).path, '/5/0/1');
  });

  it('takes the other kinds at the depths Leshan serves them', () => {
    assert.deepEqual(ok({ kind: 'execute', path: '/5/0/2', args: "0='a',1" }), {
      ep: 'dev',
      kind: 'execute',
      path: '/5/0/2',
      args: "0='a',1",
    });
    assert.equal(ok({ kind: 'read', path: '/3' }).path, '/3');
    assert.equal(ok({ kind: 'observe', path: '/3303/0/5700' }).kind, 'observe');
    assert.equal(ok({ kind: 'cancel-observe', path: '/3303/0/5700' }).kind, 'cancel-observe');
    assert.equal(ok({ kind: 'delete', path: '/3303/1' }).path, '/3303/1');
    assert.equal(ok({ kind: 'write', path: '/40000/0/3', type: 'integer', value: { '0': 1, '1': 2 } }).type, 'INTEGER');
  });

  it('names the field of every mistake', () => {
    fails({ kind: 'launch', path: '/3/0/4' }, 'kind', /./);
    fails({ kind: 'write', path: '/5/x/1', value: 'u' }, 'path', /not a number|segment/);
    fails({ kind: 'write', path: '/5/0/70000', value: 'u' }, 'path', /range/);
    fails({ kind: 'write', path: '/5/0', value: 'u' }, 'path', /resource or resourceInstance path/);
    fails({ kind: 'execute', path: '/5/0/2/1' }, 'path', /resource path/);
    fails({ kind: 'delete', path: '/3/0/1' }, 'path', /instance path/);
    fails({ kind: 'write', path: '/5/0/1' }, 'value', /needs a value/);
    fails({ kind: 'write', path: '/1/0/1', value: 'soon' }, 'value', /INTEGER/);
    fails({ kind: 'write', path: '/1/0/6', value: 'maybe' }, 'value', /BOOLEAN/);
    fails({ kind: 'write', path: '/1/0/1', type: 'STRING', value: 'x' }, 'type', /INTEGER in the object model/);
    fails({ kind: 'write', path: '/40000/0/1', value: 1 }, 'type', /not in the object model/);
    fails({ kind: 'write', path: '/40000/0/1', type: 'BLOB', value: 1 }, 'type', /unknown type/);
    fails({ kind: 'write', path: '/3/0/0', value: 'ACME' }, 'path', /Manufacturer.*not writable/);
    fails({ kind: 'execute', path: '/5/0/1' }, 'path', /not executable/);
    fails({ kind: 'execute', path: '/3/0/4', args: 'reboot now' }, 'args', /argument list/);
    fails({ kind: 'read', path: '/3/0/0', value: 1 }, 'value', /takes no value/);
    fails({ kind: 'read', path: '/3/0/0', args: '1' }, 'args', /only execute/);
    fails({ kind: 'write', path: '/40000/0/3', type: 'INTEGER', value: { x: 1 } }, 'value.x', /resource instance id/);
    fails({ kind: 'write', path: '/5/0/1', value: { '0': 'a' } }, 'value', /single-instance/);
    fails({ kind: 'read', path: '/3', colour: 'red' }, 'colour', /unknown field/);
    fails([], '(body)', /./);
    fails({ kind: 'read', path: '/3' }, 'ep', /control characters/, 'a\u0001b');
    fails({ kind: 'read', path: '/3', expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt', /past/);
    fails({ kind: 'read', path: '/3', expiresAt: 'tomorrow' }, 'expiresAt', /./);
    fails({ kind: 'read', path: '/3' }, 'Idempotency-Key', /1-200/, 'dev', 'k'.repeat(201));
  });

  it('turns ttlSeconds into an absolute expiresAt and keeps the idempotency key', () => {
    assert.deepEqual(ok({ kind: 'read', path: '/3', ttlSeconds: 3600 }, 'dev', 'key-1'), {
      ep: 'dev',
      kind: 'read',
      path: '/3',
      expiresAt: '2026-11-25T13:00:00.000Z',
      idempotencyKey: 'key-1',
    });
  });

  it('stores an object link as its two ids only, and refuses a deep value with a 4xx instead of failing on it', () => {
    const junk = 'x'.repeat(900_000);
    const link = ok({ kind: 'write', path: '/40000/0/1', type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 0, junk } });
    assert.deepEqual(link.value, { objectId: 3303, objectInstanceId: 0 });
    const multi = ok({ kind: 'write', path: '/40000/0/1', type: 'OBJLNK', value: { '0': { objectId: 1, objectInstanceId: 2, junk } } });
    assert.deepEqual(multi.value, { '0': { objectId: 1, objectInstanceId: 2 } });
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = { objectId: deep };
    fails({ kind: 'write', path: '/40000/0/1', type: 'OBJLNK', value: deep }, 'value', /./);
  });
});

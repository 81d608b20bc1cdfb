import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  cachedNameTags,
  dataLine,
  endpointTag,
  fieldOf,
  quotedField,
  registrationLine,
  repairedStringValues,
} from '../../src/ingest/points.js';
import { registrationEventOf as registrationEvent } from '../../src/lwm2m/registrationObject.js';
import { NanoClock } from '../../src/ingest/nanoClock.js';
import type { ResourceValue } from '../../src/lwm2m/node.js';

const at = (objectId: number, resourceId: number, value: ResourceValue['value'], resourceInstanceId?: number): ResourceValue =>
  resourceInstanceId === undefined
    ? { objectId, instanceId: 0, resourceId, value }
    : { objectId, instanceId: 0, resourceId, resourceInstanceId, value };

describe('fieldOf', () => {
  it('gives every type its own field kind, integers exact', () => {
    assert.equal(fieldOf({ type: 'FLOAT', value: 24.5 }), 'float=24.5');
    assert.equal(fieldOf({ type: 'INTEGER', value: '-9223372036854775808' }), 'int=-9223372036854775808i');
    assert.equal(fieldOf({ type: 'UNSIGNED_INTEGER', value: '9223372036854775807' }), 'int=9223372036854775807i');
    assert.equal(fieldOf({ type: 'UNSIGNED_INTEGER', value: '18446744073709551615' }), 'string="18446744073709551615"');
    assert.equal(fieldOf({ type: 'TIME', value: 1732550000123 }), 'int=1732550000123i');
    assert.equal(fieldOf({ type: 'BOOLEAN', value: false }), 'bool=false');
    assert.equal(fieldOf({ type: 'STRING', value: 'say "hi" \\o/' }), 'string="say \\"hi\\" \\\\o/"');
    assert.equal(fieldOf({ type: 'OPAQUE', value: 'cafe01' }), 'string="cafe01"');
    assert.equal(fieldOf({ type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 1 } }), 'string="3303:1"');
    assert.equal(fieldOf({ type: 'CORELINK', value: '</3/0>' }), 'string="</3/0>"');
  });

  it('escapes only " and \\ in a string, keeps control characters, NUL, CR and LF as they are', () => {
    assert.equal(quotedField('a\u0000b\u0001\n\r\t\u007f\u0085'), '"a\u0000b\u0001\n\r\t\u007f\u0085"');
    assert.equal(quotedField('ends in \\'), '"ends in \\\\"');
    assert.equal(quotedField('"\\"'), '"\\"\\\\\\""');
    assert.equal(quotedField(''), '""');
  });

  it('replaces a lone surrogate (UTF-8 cannot carry it) with U+FFFD, and dataLine counts it', () => {
    assert.equal(fieldOf({ type: 'STRING', value: 'a\ud800b\udc00' }), 'string="a\ufffdb\ufffd"');
    assert.equal(fieldOf({ type: 'STRING', value: '\ud83d\ude00' }), 'string="\ud83d\ude00"', 'a pair is kept');
    const before = repairedStringValues();
    dataLine('d', at(3, 0, { type: 'STRING', value: '\ud800' }), '1');
    dataLine('d', at(3, 0, { type: 'STRING', value: 'fine' }), '2');
    dataLine('d', at(3, 0, { type: 'CORELINK', value: '</3>\udfff' }), '3');
    assert.equal(repairedStringValues() - before, 2);
  });
});

describe('dataLine', () => {
  it('tags endpoint, object, instance, resource, type and the model names, in sorted key order', () => {
    assert.equal(
      dataLine(endpointTag('dev 1,a=b'), at(3303, 5700, { type: 'FLOAT', value: 21.5 }), '1000000001'),
      'lwm2m,ep=dev\\ 1\\,a\\=b,inst=0,obj=3303,object=Temperature,res=5700,resource=Sensor\\ Value,type=FLOAT float=21.5 1000000001',
    );
  });

  it('adds ri for a resource instance and leaves out names the model does not know', () => {
    assert.equal(
      dataLine('d', at(40000, 7, { type: 'INTEGER', value: '5' }, 1), '1'),
      'lwm2m,ep=d,inst=0,obj=40000,res=7,ri=1,type=INTEGER int=5i 1',
    );
  });
});

describe('name tag caches', () => {
  it('cache names of known objects and resources only: unknown ids cost no memory', () => {
    dataLine('d', at(3303, 5700, { type: 'FLOAT', value: 1 }), '1');
    const known = cachedNameTags();
    for (let o = 20000; o < 20100; o++) {
      for (let r = 0; r < 50; r++) dataLine('d', at(o, r, { type: 'INTEGER', value: '1' }), '1');
    }
    for (let r = 9000; r < 9500; r++) dataLine('d', at(3303, r, { type: 'INTEGER', value: '1' }), '1');
    assert.equal(cachedNameTags(), known, 'no entry for an unknown object or resource');
    assert.equal(
      dataLine('d', at(3303, 9001, { type: 'INTEGER', value: '1' }), '1'),
      'lwm2m,ep=d,inst=0,obj=3303,object=Temperature,res=9001,type=INTEGER int=1i 1',
      'a known object keeps its name tag for an unknown resource',
    );
    dataLine('d', at(3303, 5701, { type: 'STRING', value: 'Cel' }), '1');
    assert.equal(cachedNameTags(), known + 1, 'a known resource is cached once');
  });
});

describe('registration events', () => {
  it('maps 10240/x/0,1,2 and records the registration time', () => {
    const v = at(10240, 1, { type: 'TIME', value: 1732550000000 });
    assert.equal(registrationEvent(v), 'deregistered');
    assert.equal(registrationEvent(at(10240, 0, { type: 'TIME', value: 1 })), 'registered');
    assert.equal(registrationEvent(at(10240, 2, { type: 'TIME', value: 1 })), 'updated');
    assert.equal(registrationEvent(at(10240, 3, { type: 'TIME', value: 1 })), undefined);
    assert.equal(registrationEvent(at(3, 0, { type: 'STRING', value: 'x' })), undefined);
    assert.equal(registrationLine('d', 'deregistered', v, '5'), 'registration,ep=d,event=deregistered registration_time=1732550000000i 5');
  });
});

describe('NanoClock', () => {
  it('gives unique increasing ns timestamps within one ms', () => {
    let now = 1_700_000_000_000;
    const clock = new NanoClock(() => now);
    const a = clock.next();
    const b = clock.next();
    assert.equal(a, '1700000000000000000');
    assert.equal(b, '1700000000000000001');
    now += 1;
    assert.equal(clock.next(), '1700000000001000000');
    now -= 5; // the wall clock stepped back: stay increasing
    assert.equal(clock.next(), '1700000000001000001');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { endpointAddressProblem, endpointNameProblem, MAX_ENDPOINT_NAME_LENGTH } from '../../src/lwm2m/endpointName.js';

describe('endpoint names', () => {
  it('takes the names devices use', () => {
    for (const ep of [
      'qemu_x86',
      'urn:imei:490154203237518',
      'urn:dev:ops:32473-IoT_Device-1',
      'Gerät 7',
      'a'.repeat(MAX_ENDPOINT_NAME_LENGTH),
    ]) {
      assert.equal(endpointNameProblem(ep), undefined, ep);
      assert.equal(endpointAddressProblem(ep), undefined, ep);
    }
  });

  it('refuses what cannot be stored as an InfluxDB tag, naming the reason', () => {
    assert.equal(endpointNameProblem(undefined), 'missing ep');
    assert.equal(endpointNameProblem(7), 'ep must be a string, got number');
    assert.equal(endpointNameProblem(null), 'ep must be a string, got null');
    assert.equal(endpointNameProblem(''), 'ep must not be empty');
    assert.match(endpointNameProblem('a'.repeat(MAX_ENDPOINT_NAME_LENGTH + 1))!, /longer than 256/);
    assert.equal(endpointNameProblem('dev\\'), 'ep must not contain a backslash');
    assert.equal(endpointNameProblem('dev\u0001'), 'ep must not contain control characters (U+0001)');
    assert.equal(endpointNameProblem('a\nb'), 'ep must not contain control characters (U+000A)');
    assert.equal(endpointNameProblem('a\u007fb'), 'ep must not contain control characters (U+007F)');
    assert.equal(endpointNameProblem('a\u0085b'), 'ep must not contain control characters (U+0085)');
  });

  it('refuses for operations what Leshan cannot route to', () => {
    for (const ep of ['.', '..', 'a/b', 'a;b', '50%']) assert.match(endpointAddressProblem(ep)!, /Leshan's REST API/, ep);
    assert.equal(endpointNameProblem('a/b'), undefined, 'values from such a device can still be stored');
  });

  it('never takes a name with a control character or a backslash (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (ep) => {
        const bad = ep.length === 0 || ep.length > MAX_ENDPOINT_NAME_LENGTH || /[\u0000-\u001f\u007f-\u009f\\]/.test(ep);
        assert.equal(endpointNameProblem(ep) === undefined, !bad);
      }),
      { numRuns: 2000 },
    );
  });
});

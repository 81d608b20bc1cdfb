import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  convertValue,
  parseResourceType,
  RESOURCE_TYPES,
  toLeshanValue,
  ValueError,
  type ResourceType,
  type TypedValue,
} from '../../src/lwm2m/value.js';

function ok(type: ResourceType, raw: unknown, expected: unknown): void {
  const v = convertValue(type, raw);
  assert.equal(v.type, type);
  assert.deepEqual(v.value, expected, `${type} ${JSON.stringify(raw)}`);
}

function bad(type: ResourceType, raw: unknown, message?: RegExp | string): void {
  assert.throws(
    () => convertValue(type, raw),
    (e: unknown) => {
      if (!(e instanceof ValueError)) return false;
      if (message === undefined) return true;
      return typeof message === 'string' ? e.message === message : message.test(e.message);
    },
    `${type} ${String(raw)} should be rejected`,
  );
}

describe('parseResourceType', () => {
  it('knows the ten Leshan types, case-insensitively', () => {
    assert.equal(RESOURCE_TYPES.length, 10);
    assert.equal(new Set(RESOURCE_TYPES).size, 10);
    for (const t of RESOURCE_TYPES) {
      assert.equal(parseResourceType(t), t);
      assert.equal(parseResourceType(t.toLowerCase()), t);
    }
    assert.equal(parseResourceType('Float'), 'FLOAT');
    assert.equal(parseResourceType('unsigned_integer'), 'UNSIGNED_INTEGER');
  });

  it('returns undefined for anything else', () => {
    for (const x of ['BLOB', 'unsigned integer', '', ' FLOAT', 5, null, undefined, {}, ['FLOAT']]) {
      assert.equal(parseResourceType(x), undefined, String(x));
    }
  });
});

describe('STRING and CORELINK', () => {
  it('take strings as they are', () => {
    ok('STRING', 'Zephyr', 'Zephyr');
    ok('STRING', '', '');
    ok('STRING', '+02:00', '+02:00');
    ok('CORELINK', '</3/0>,</1/0>', '</3/0>,</1/0>');
  });

  it('reject numbers, booleans, null and objects', () => {
    bad('STRING', 5, '5 is not a STRING');
    bad('STRING', true, 'true is not a STRING');
    bad('STRING', null, 'null is not a STRING');
    bad('STRING', {}, 'an object is not a STRING');
    bad('CORELINK', 5, '5 is not a CORELINK');
  });
});

describe('INTEGER', () => {
  it('takes safe integer numbers', () => {
    ok('INTEGER', 42, '42');
    ok('INTEGER', -7, '-7');
    ok('INTEGER', -0, '0');
    ok('INTEGER', Number.MAX_SAFE_INTEGER, '9007199254740991');
    ok('INTEGER', Number.MIN_SAFE_INTEGER, '-9007199254740991');
  });

  it('takes decimal strings and canonicalizes them', () => {
    ok('INTEGER', '300', '300');
    ok('INTEGER', '0042', '42');
    ok('INTEGER', '+5', '5');
    ok('INTEGER', '-0', '0');
    ok('INTEGER', '-000', '0');
    ok('INTEGER', '0', '0');
    ok('INTEGER', '-0012', '-12');
  });

  it('keeps the int64 edges exact, without float rounding', () => {
    ok('INTEGER', '9223372036854775807', '9223372036854775807');
    ok('INTEGER', '-9223372036854775808', '-9223372036854775808');
    ok('INTEGER', '0009223372036854775807', '9223372036854775807');
    ok('INTEGER', '9007199254740993', '9007199254740993'); // 2^53 + 1, not representable as a double
  });

  it('rejects values outside int64', () => {
    bad('INTEGER', '9223372036854775808', '9223372036854775808 is out of range for INTEGER (int64)');
    bad('INTEGER', '-9223372036854775809', '-9223372036854775809 is out of range for INTEGER (int64)');
    bad('INTEGER', '99999999999999999999', '99999999999999999999 is out of range for INTEGER (int64)');
  });

  it('rejects non-integers, unsafe numbers and other types', () => {
    bad('INTEGER', 'abc', '"abc" is not an INTEGER');
    for (const x of ['', '-', '+', '1.5', '1e3', ' 1', '1 ', '0x10', '1_000', '--1', 1.5, Number.NaN, Infinity, true, null, {}]) {
      bad('INTEGER', x, /is not an INTEGER/);
    }
    bad('INTEGER', 2 ** 53, /is not a safe integer/);
    bad('INTEGER', -(2 ** 60), /is not a safe integer/);
  });

  it('reads every int64 exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (b) => {
        assert.equal(convertValue('INTEGER', b.toString()).value, b.toString());
      }),
    );
  });
});

describe('UNSIGNED_INTEGER', () => {
  it('takes 0..18446744073709551615 exactly', () => {
    ok('UNSIGNED_INTEGER', 0, '0');
    ok('UNSIGNED_INTEGER', '-0', '0');
    ok('UNSIGNED_INTEGER', 17, '17');
    ok('UNSIGNED_INTEGER', '18446744073709551615', '18446744073709551615');
    ok('UNSIGNED_INTEGER', '18446744073709551614', '18446744073709551614');
    ok('UNSIGNED_INTEGER', '9223372036854775808', '9223372036854775808'); // above int64, fine for uint64
  });

  it('rejects negatives and values above uint64', () => {
    bad('UNSIGNED_INTEGER', '18446744073709551616', '18446744073709551616 is out of range for UNSIGNED_INTEGER (uint64)');
    bad('UNSIGNED_INTEGER', '-1', '-1 is out of range for UNSIGNED_INTEGER (uint64)');
    bad('UNSIGNED_INTEGER', -1, '-1 is out of range for UNSIGNED_INTEGER (uint64)');
    bad('UNSIGNED_INTEGER', 'x', '"x" is not an UNSIGNED_INTEGER');
    bad('UNSIGNED_INTEGER', 2.5, /is not an UNSIGNED_INTEGER/);
  });

  it('rejects exactly the values outside uint64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }), (b) => {
        const inRange = b >= 0n && b <= 2n ** 64n - 1n;
        if (inRange) assert.equal(convertValue('UNSIGNED_INTEGER', b.toString()).value, b.toString());
        else bad('UNSIGNED_INTEGER', b.toString(), /out of range/);
      }),
    );
  });
});

describe('FLOAT', () => {
  it('takes finite numbers and decimal strings', () => {
    ok('FLOAT', 21.5, 21.5);
    ok('FLOAT', 3, 3);
    ok('FLOAT', '24.899181214836236', 24.899181214836236);
    ok('FLOAT', '1.0E10', 1e10); // Java's Double.toString
    ok('FLOAT', '1e+21', 1e21); // JavaScript's String()
    ok('FLOAT', '+1e-3', 0.001);
    ok('FLOAT', '.5', 0.5);
    ok('FLOAT', '5.', 5);
    ok('FLOAT', '-12', -12);
  });

  it('folds negative zero', () => {
    assert.ok(Object.is(convertValue('FLOAT', '-0.0').value, 0));
    assert.ok(Object.is(convertValue('FLOAT', -0).value, 0));
  });

  it('rejects NaN, infinities, malformed strings and other types', () => {
    bad('FLOAT', 'NaN', '"NaN" is not a FLOAT');
    for (const x of ['Infinity', '-Infinity', 'inf', '', '1.2.3', '0x10', '1e', 'e5', '.', '-', '1 ', ' 1', '1,5', '1d']) {
      bad('FLOAT', x, /is not a FLOAT/);
    }
    for (const x of [Number.NaN, Infinity, -Infinity, true, null, [], {}]) bad('FLOAT', x, /is not a FLOAT/);
    bad('FLOAT', '1e400', '"1e400" is out of range for FLOAT (float64)');
  });
});

describe('BOOLEAN', () => {
  it('takes booleans, "true"/"false", "1"/"0" and 0/1', () => {
    ok('BOOLEAN', true, true);
    ok('BOOLEAN', false, false);
    ok('BOOLEAN', 'true', true);
    ok('BOOLEAN', 'false', false);
    ok('BOOLEAN', 'True', true);
    ok('BOOLEAN', 'FALSE', false);
    ok('BOOLEAN', '1', true);
    ok('BOOLEAN', '0', false);
    ok('BOOLEAN', 1, true);
    ok('BOOLEAN', 0, false);
  });

  it('rejects anything else', () => {
    bad('BOOLEAN', 2, '2 is not a BOOLEAN');
    for (const x of ['yes', '', 'true ', '01', -1, 0.5, null, {}, []]) bad('BOOLEAN', x, /is not a BOOLEAN/);
  });
});

describe('TIME', () => {
  const at = Date.UTC(2024, 7, 30, 10, 0, 0);

  it('takes integer ms as a number or a digit string', () => {
    ok('TIME', 1725000000000, 1725000000000);
    ok('TIME', '1725000000000', 1725000000000);
    ok('TIME', 0, 0);
    ok('TIME', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  });

  it('takes ISO-8601 date-times with a zone (Leshan 1.x)', () => {
    ok('TIME', '2024-08-30T12:00:00+02:00', at);
    ok('TIME', '2024-08-30T12:00:00+0200', at);
    ok('TIME', '2024-08-30T12:00:00+02', at);
    ok('TIME', '2024-08-30T08:00:00-02:00', at);
    ok('TIME', '2024-08-30T10:00:00Z', at);
    ok('TIME', '2024-08-30t10:00:00z', at);
    ok('TIME', '2024-08-30T10:00Z', at);
    ok('TIME', '2024-08-30T10:00:00.123Z', at + 123);
    ok('TIME', '2024-08-30T10:00:00.1Z', at + 100);
    ok('TIME', '2024-08-30T10:00:00.123456789Z', at + 123);
    ok('TIME', '2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29));
    ok('TIME', '1969-12-31T23:00:00-02:00', 3_600_000);
    ok('TIME', '+275760-09-13T00:00:00.000Z', 8_640_000_000_000_000);
  });

  it('rejects dates before 1970, invalid dates and dates without a zone', () => {
    bad('TIME', '1969-12-31T23:59:59Z', /out of range for TIME/);
    bad('TIME', '0099-06-01T00:00:00Z', /out of range for TIME/); // Date.UTC would read it as 1999
    bad('TIME', '2024-08-30T12:00:00', /is not a TIME/);
    bad('TIME', '2024-08-30', /is not a TIME/);
    for (const x of ['2023-02-29T00:00:00Z', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-04-31T00:00:00Z']) {
      bad('TIME', x, /is not a valid date-time/);
    }
    for (const x of ['2024-08-30T24:00:00Z', '2024-08-30T10:60:00Z', '2024-08-30T10:00:60Z', '2024-08-30T10:00:00+24:00']) {
      bad('TIME', x, /is not a valid date-time/);
    }
  });

  it('rejects negative, fractional, unsafe and non-time values', () => {
    bad('TIME', -1, /out of range for TIME/);
    bad('TIME', 1.5, /is not a TIME/);
    bad('TIME', 2 ** 53, /out of range for TIME/);
    bad('TIME', '99999999999999999999', /out of range for TIME/);
    for (const x of ['yesterday', '', '-1', '1.5', true, null, {}]) bad('TIME', x, /TIME/);
  });
});

describe('OPAQUE', () => {
  it('takes hex of even length and lower-cases it', () => {
    ok('OPAQUE', 'cafe01', 'cafe01');
    ok('OPAQUE', 'CAFE01', 'cafe01');
    ok('OPAQUE', 'aBcD', 'abcd');
    ok('OPAQUE', '', '');
  });

  it('rejects odd lengths, non-hex and non-strings', () => {
    bad('OPAQUE', 'abc', /odd number of hex digits/);
    bad('OPAQUE', 'zz', /expected hex digits/);
    bad('OPAQUE', '0x10', /expected hex digits/);
    bad('OPAQUE', 'ca fe', /expected hex digits/);
    bad('OPAQUE', 12, /is not an OPAQUE/);
    bad('OPAQUE', null, /is not an OPAQUE/);
  });
});

describe('OBJLNK', () => {
  it('takes {objectId, objectInstanceId}, dropping extra keys such as nullLink', () => {
    ok('OBJLNK', { objectId: 3303, objectInstanceId: 0 }, { objectId: 3303, objectInstanceId: 0 });
    ok('OBJLNK', { objectId: 3, objectInstanceId: 0, nullLink: false }, { objectId: 3, objectInstanceId: 0 });
    ok('OBJLNK', { objectId: 65535, objectInstanceId: 65535 }, { objectId: 65535, objectInstanceId: 65535 });
  });

  it('takes "object:instance" strings', () => {
    ok('OBJLNK', '3303:0', { objectId: 3303, objectInstanceId: 0 });
    ok('OBJLNK', '65535:65535', { objectId: 65535, objectInstanceId: 65535 });
  });

  it('rejects malformed links and ids out of range', () => {
    for (const x of ['3303', '3303:', ':0', '3303:0:1', 'a:b', '-1:0', ' 1:0', '', 5, null, [], true]) {
      bad('OBJLNK', x, /is not an OBJLNK/);
    }
    bad('OBJLNK', '70000:0', /out of range for OBJLNK/);
    bad('OBJLNK', { objectId: 70000, objectInstanceId: 0 }, 'OBJLNK objectId 70000 out of range 0-65535');
    bad('OBJLNK', { objectId: 1, objectInstanceId: -1 }, 'OBJLNK objectInstanceId -1 out of range 0-65535');
    bad('OBJLNK', { objectId: '3303', objectInstanceId: 0 }, /objectId "3303" is not an integer/);
    bad('OBJLNK', { objectId: 1.5, objectInstanceId: 0 }, /objectId 1.5 is not an integer/);
    bad('OBJLNK', { objectId: 1 }, 'OBJLNK is missing objectInstanceId');
  });
});

describe('NONE', () => {
  it('never carries a value', () => {
    for (const x of [undefined, null, '', 0, 'x']) bad('NONE', x, 'type NONE carries no value');
  });
});

describe('toLeshanValue', () => {
  it('encodes each type the way Leshan 2.x deserializes it', () => {
    assert.equal(toLeshanValue(convertValue('STRING', '+02:00')), '+02:00');
    assert.equal(toLeshanValue(convertValue('CORELINK', '</3/0>')), '</3/0>');
    assert.equal(toLeshanValue(convertValue('INTEGER', 300)), '300');
    assert.equal(toLeshanValue(convertValue('UNSIGNED_INTEGER', '18446744073709551615')), '18446744073709551615');
    assert.equal(toLeshanValue(convertValue('FLOAT', '21.5')), 21.5);
    assert.equal(toLeshanValue(convertValue('BOOLEAN', 'true')), true);
    assert.equal(toLeshanValue(convertValue('TIME', '2024-08-30T07:20:00Z')), 1725002400000);
    assert.equal(toLeshanValue(convertValue('OPAQUE', 'CAFE01')), 'cafe01');
    assert.deepEqual(toLeshanValue(convertValue('OBJLNK', { objectId: 3303, objectInstanceId: 0, nullLink: false })), {
      objectId: 3303,
      objectInstanceId: 0,
    });
  });

  it('keeps big integers exact through JSON', () => {
    const body = JSON.stringify({ value: toLeshanValue(convertValue('INTEGER', '9223372036854775807')) });
    assert.equal(body, '{"value":"9223372036854775807"}');
  });
});

describe('toLeshanValue', () => {
  it('is read back to the same value by convertValue (as Leshan takes it in a write body)', () => {
    const id = fc.integer({ min: 0, max: 65535 });
    const typed: fc.Arbitrary<TypedValue> = fc.oneof(
      fc.string().map((value) => ({ type: 'STRING' as const, value })),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => ({ type: 'INTEGER' as const, value: b.toString() })),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) => ({ type: 'UNSIGNED_INTEGER' as const, value: b.toString() })),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => ({ type: 'FLOAT' as const, value: d === 0 ? 0 : d })),
      fc.boolean().map((value) => ({ type: 'BOOLEAN' as const, value })),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map((value) => ({ type: 'TIME' as const, value })),
      fc.uint8Array().map((a) => ({ type: 'OPAQUE' as const, value: Buffer.from(a).toString('hex') })),
      fc.tuple(id, id).map(([objectId, objectInstanceId]) => ({ type: 'OBJLNK' as const, value: { objectId, objectInstanceId } })),
    );
    fc.assert(
      fc.property(typed, (v) => {
        assert.deepEqual(convertValue(v.type, toLeshanValue(v)), v);
      }),
    );
  });
});

describe('convertValue on arbitrary input', () => {
  it('either converts or throws a ValueError, never anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCE_TYPES), fc.oneof(fc.anything(), fc.string(), fc.double()), (type, raw) => {
        try {
          convertValue(type, raw);
        } catch (e) {
          assert.ok(e instanceof ValueError, String(e));
        }
      }),
    );
  });
});

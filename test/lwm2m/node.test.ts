import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildWriteNode, flattenNode, type NodeContext, type ResourceValue } from '../../src/lwm2m/node.js';
import { FieldError } from '../../src/lwm2m/fieldError.js';
import { parsePath, PathError, type LwM2mPath } from '../../src/lwm2m/path.js';
import { convertValue, ValueError, type TypedValue } from '../../src/lwm2m/value.js';

function flatten(node: unknown, ctx: NodeContext = {}, field = 'val'): ResourceValue[] {
  const out: ResourceValue[] = [];
  flattenNode(node, ctx, field, out);
  return out;
}

function rv(path: string, value: TypedValue): ResourceValue {
  const p = parsePath(path);
  const r: ResourceValue = { objectId: p.objectId, instanceId: p.instanceId!, resourceId: p.resourceId!, value };
  if (p.resourceInstanceId !== undefined) r.resourceInstanceId = p.resourceInstanceId;
  return r;
}

const str = (value: string): TypedValue => ({ type: 'STRING', value });
const int = (value: string): TypedValue => ({ type: 'INTEGER', value });

function fails(node: unknown, ctx: NodeContext, field: string, message: RegExp | string, prefix = 'val'): void {
  assert.throws(
    () => flattenNode(node, ctx, prefix, []),
    (e: unknown) => {
      assert.ok(e instanceof FieldError, `expected a FieldError, got ${String(e)}`);
      assert.equal(e.field, field);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

// The seed's documented composite example, with its JSON repaired (the multiResource lost its opening brace)
// and the id and type Leshan always writes restored on the multiResource.
const SEED_COMPOSITE = `{
  "ep" : "qemu_x86",
  "val" : {
    "instances" : [ {
      "kind" : "instance",
      "resources" : [ {
        "kind" : "singleResource",
        "id" : 0,
        "type" : "STRING",
        "value" : "Zephyr"
      }, {
        "kind" : "multiResource",
        "id" : 6,
        "type" : "INTEGER",
        "values" : {
          "0" : "1",
          "1" : "5"
        }
      }, {
        "kind" : "singleResource",
        "id" : 17,
        "type" : "STRING",
        "value" : "qemu_x86"
      } ],
      "id" : 0
    } ],
    "kind" : "obj",
    "id" : 3
  }
}`;

const SEED_COMPOSITE_VALUES = [
  rv('/3/0/0', str('Zephyr')),
  rv('/3/0/6/0', int('1')),
  rv('/3/0/6/1', int('5')),
  rv('/3/0/17', str('qemu_x86')),
];

describe('flattenNode: seed payloads', () => {
  it('reads the single-resource example', () => {
    const body = JSON.parse(
      '{"ep":"qemu_x86","obj_id":3303,"val":{"kind":"singleResource","id":5700,"type":"FLOAT","value":"24.899181214836236"}}',
    ) as { obj_id: number; val: unknown };
    assert.deepEqual(flatten(body.val, { objectId: body.obj_id }), [rv('/3303/0/5700', { type: 'FLOAT', value: 24.899181214836236 })]);
  });

  it('reads the composite example as documented (val is the obj node)', () => {
    const body = JSON.parse(SEED_COMPOSITE) as { val: unknown };
    assert.deepEqual(flatten(body.val), SEED_COMPOSITE_VALUES);
  });

  it('reads the composite as Leshan posts it (val keyed by path)', () => {
    const inner = (JSON.parse(SEED_COMPOSITE) as { val: unknown }).val;
    const val: Record<string, unknown> = { '/3': inner };
    const out: ResourceValue[] = [];
    for (const key of Object.keys(val)) {
      const p = parsePath(key);
      flattenNode(val[key], { objectId: p.objectId }, `val[${JSON.stringify(key)}]`, out);
    }
    assert.deepEqual(out, SEED_COMPOSITE_VALUES);
  });

  it('names the field when the multiResource lacks its id, as in the unrepaired example', () => {
    const val = (JSON.parse(SEED_COMPOSITE) as { val: { instances: { resources: Record<string, unknown>[] }[] } }).val;
    delete val.instances[0]!.resources[1]!.id;
    fails(val, {}, 'val.instances[0].resources[1].id', 'missing id');
  });

  it('reads the registration events of object 10240', () => {
    const ms = 1725000000000;
    for (const id of [0, 1, 2]) {
      const body = { ep: 'qemu_x86', obj_id: 10240, val: { kind: 'singleResource', id, type: 'TIME', value: ms } };
      assert.deepEqual(flatten(body.val, { objectId: body.obj_id }), [rv(`/10240/0/${id}`, { type: 'TIME', value: ms })]);
    }
  });
});

describe('flattenNode: node kinds (2.x)', () => {
  it('singleResource: one value, instance from the context or 0', () => {
    const node = { kind: 'singleResource', id: 1, type: 'INTEGER', value: '300' };
    assert.deepEqual(flatten(node, { objectId: 1 }), [rv('/1/0/1', int('300'))]);
    assert.deepEqual(flatten(node, { objectId: 1, instanceId: 2 }), [rv('/1/2/1', int('300'))]);
    assert.deepEqual(flatten(node, { objectId: 1, instanceId: 2, resourceId: 1 }), [rv('/1/2/1', int('300'))]);
  });

  it('multiResource: one value per resource instance, keyed by the values keys', () => {
    const node = { kind: 'multiResource', id: 0, type: 'STRING', values: { '0': 'aa', '7': 'bb', '65535': 'cc' } };
    assert.deepEqual(flatten(node, { objectId: 16, instanceId: 0 }), [
      rv('/16/0/0/0', str('aa')),
      rv('/16/0/0/7', str('bb')),
      rv('/16/0/0/65535', str('cc')),
    ]);
    assert.deepEqual(flatten({ ...node, values: {} }, { objectId: 16 }), []);
  });

  it('resourceInstance: one value at the resource of the context', () => {
    const node = { kind: 'resourceInstance', id: 1, type: 'STRING', value: 'bb' };
    assert.deepEqual(flatten(node, { objectId: 16, instanceId: 0, resourceId: 0 }), [rv('/16/0/0/1', str('bb'))]);
    assert.deepEqual(flatten(node, { objectId: 16, instanceId: 0, resourceId: 0, resourceInstanceId: 1 }), [rv('/16/0/0/1', str('bb'))]);
  });

  it('instance: its resources, with the instance id from the node, else the context, else 0', () => {
    const resources = [
      { kind: 'singleResource', id: 1, type: 'INTEGER', value: '60' },
      { kind: 'singleResource', id: 6, type: 'BOOLEAN', value: false },
    ];
    const expected = (i: number): ResourceValue[] => [rv(`/1/${i}/1`, int('60')), rv(`/1/${i}/6`, { type: 'BOOLEAN', value: false })];
    assert.deepEqual(flatten({ kind: 'instance', id: 3, resources }, { objectId: 1 }), expected(3));
    assert.deepEqual(flatten({ kind: 'instance', resources }, { objectId: 1, instanceId: 4 }), expected(4));
    assert.deepEqual(flatten({ kind: 'instance', resources }, { objectId: 1 }), expected(0));
  });

  it('obj: every instance of a multi-instance object', () => {
    const node = {
      kind: 'obj',
      id: 3303,
      instances: [
        { kind: 'instance', id: 0, resources: [{ kind: 'singleResource', id: 5700, type: 'FLOAT', value: '21.5' }] },
        { kind: 'instance', id: 1, resources: [{ kind: 'singleResource', id: 5700, type: 'float', value: '-3.25' }] },
      ],
    };
    assert.deepEqual(flatten(node), [
      rv('/3303/0/5700', { type: 'FLOAT', value: 21.5 }),
      rv('/3303/1/5700', { type: 'FLOAT', value: -3.25 }),
    ]);
  });

  it('root: every object', () => {
    const node = {
      kind: 'root',
      objects: [
        {
          kind: 'obj',
          id: 3,
          instances: [{ kind: 'instance', id: 0, resources: [{ kind: 'singleResource', id: 0, type: 'STRING', value: 'Z' }] }],
        },
        {
          kind: 'obj',
          id: 5,
          instances: [{ kind: 'instance', id: 0, resources: [{ kind: 'singleResource', id: 3, type: 'INTEGER', value: '2' }] }],
        },
      ],
    };
    assert.deepEqual(flatten(node), [rv('/3/0/0', str('Z')), rv('/5/0/3', int('2'))]);
  });

  it('converts every value type as it comes from Leshan 2.x', () => {
    const resources = [
      { kind: 'singleResource', id: 0, type: 'OPAQUE', value: 'CAFE01' },
      { kind: 'singleResource', id: 1, type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 0, nullLink: false } },
      { kind: 'singleResource', id: 2, type: 'UNSIGNED_INTEGER', value: '18446744073709551615' },
      { kind: 'singleResource', id: 3, type: 'TIME', value: 1725000000000 },
      { kind: 'singleResource', id: 4, type: 'CORELINK', value: '</3/0>' },
    ];
    assert.deepEqual(flatten({ kind: 'instance', id: 0, resources }, { objectId: 20000 }), [
      rv('/20000/0/0', { type: 'OPAQUE', value: 'cafe01' }),
      rv('/20000/0/1', { type: 'OBJLNK', value: { objectId: 3303, objectInstanceId: 0 } }),
      rv('/20000/0/2', { type: 'UNSIGNED_INTEGER', value: '18446744073709551615' }),
      rv('/20000/0/3', { type: 'TIME', value: 1725000000000 }),
      rv('/20000/0/4', { type: 'CORELINK', value: '</3/0>' }),
    ]);
  });

  it('appends to the output array', () => {
    const out: ResourceValue[] = [rv('/1/0/1', int('1'))];
    flattenNode({ kind: 'singleResource', id: 2, type: 'INTEGER', value: 2 }, { objectId: 1 }, 'val', out);
    assert.deepEqual(out, [rv('/1/0/1', int('1')), rv('/1/0/2', int('2'))]);
  });
});

describe('flattenNode: Leshan 1.x nodes (no kind, no type)', () => {
  it('detects each kind from its members and takes types from the object model', () => {
    const node = {
      id: 3,
      instances: [
        {
          id: 0,
          resources: [
            { id: 0, value: 'Zephyr' },
            { id: 9, value: 95 },
            { id: 13, value: '2024-08-30T12:00:00+02:00' },
            { id: 6, values: { '0': 1, '1': 5 } },
          ],
        },
      ],
    };
    assert.deepEqual(flatten(node), [
      rv('/3/0/0', str('Zephyr')),
      rv('/3/0/9', int('95')),
      rv('/3/0/13', { type: 'TIME', value: Date.UTC(2024, 7, 30, 10) }),
      rv('/3/0/6/0', int('1')),
      rv('/3/0/6/1', int('5')),
    ]);
  });

  it('reads a kind-less instance and single resource', () => {
    assert.deepEqual(flatten({ id: 0, resources: [{ id: 5700, value: 22.5 }] }, { objectId: 3303 }), [
      rv('/3303/0/5700', { type: 'FLOAT', value: 22.5 }),
    ]);
    assert.deepEqual(flatten({ id: 6, value: true }, { objectId: 1, instanceId: 0 }), [rv('/1/0/6', { type: 'BOOLEAN', value: true })]);
  });

  it('reads a kind-less value at a resource instance path as a resource instance', () => {
    assert.deepEqual(flatten({ id: 1, value: 5 }, { objectId: 3, instanceId: 0, resourceId: 6, resourceInstanceId: 1 }), [
      rv('/3/0/6/1', int('5')),
    ]);
  });

  it('prefers an explicit type over the model', () => {
    assert.deepEqual(flatten({ id: 0, type: 'string', value: 'x' }, { objectId: 3303 }), [rv('/3303/0/0', str('x'))]);
  });

  it('fails on the type field when the model does not know the resource', () => {
    fails({ id: 9999, value: 1 }, { objectId: 3303 }, 'val.type', /^missing type/);
    fails({ id: 0, value: 1 }, { objectId: 42000 }, 'val.type', /^missing type/);
  });

  it('fails when the model says the resource is executable', () => {
    fails({ id: 4, value: 1 }, { objectId: 3 }, 'val.type', 'type NONE carries no value');
  });
});

describe('flattenNode: errors name the field', () => {
  it('locates bad values deep in an object', () => {
    const node = {
      kind: 'obj',
      id: 3303,
      instances: [
        { kind: 'instance', id: 0, resources: [{ kind: 'singleResource', id: 5700, type: 'FLOAT', value: '1' }] },
        {
          kind: 'instance',
          id: 1,
          resources: [
            { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '2' },
            { kind: 'singleResource', id: 5701, type: 'STRING', value: 'Cel' },
            { kind: 'singleResource', id: 5601, type: 'FLOAT', value: 'NaN' },
          ],
        },
      ],
    };
    fails(node, {}, 'val.instances[1].resources[2].value', '"NaN" is not a FLOAT');
  });

  it('locates bad entries of values maps', () => {
    const node = { kind: 'multiResource', id: 6, type: 'INTEGER', values: { '0': '1', '3': 'abc' } };
    fails(node, { objectId: 3 }, 'val.values["3"]', '"abc" is not an INTEGER');
    fails({ ...node, values: { x: '1' } }, { objectId: 3 }, 'val.values["x"]', 'resource instance id "x" is not a number');
    fails({ ...node, values: { '70000': '1' } }, { objectId: 3 }, 'val.values["70000"]', /out of range 0-65535/);
  });

  it('locates errors in root nodes', () => {
    const node = {
      kind: 'root',
      objects: [
        { kind: 'obj', id: 1, instances: [] },
        {
          kind: 'obj',
          id: 2,
          instances: [{ kind: 'instance', id: 0, resources: [{ kind: 'singleResource', type: 'STRING', value: 'x' }] }],
        },
      ],
    };
    fails(node, {}, 'val.objects[1].instances[0].resources[0].id', 'missing id');
  });

  it('resets the location between siblings', () => {
    const node = {
      kind: 'obj',
      id: 3,
      instances: [
        { kind: 'instance', id: 0, resources: [{ kind: 'singleResource', id: 0, type: 'STRING', value: 'x' }] },
        { kind: 'instance', id: 'one', resources: [] },
      ],
    };
    fails(node, {}, 'val.instances[1].id', 'id must be an integer, got "one"');
  });

  it('uses no leading dot when the prefix is empty', () => {
    fails({ kind: 'obj', id: 3, instances: [{ kind: 'instance', id: -1, resources: [] }] }, {}, 'instances[0].id', /out of range/, '');
  });

  it('rejects unknown or mistyped kinds', () => {
    fails({ kind: 'foo', id: 1, value: 1 }, { objectId: 1 }, 'val.kind', 'unknown kind "foo"');
    fails({ kind: 5, id: 1, value: 1 }, { objectId: 1 }, 'val.kind', 'kind must be a string, got 5');
    fails({ id: 1 }, { objectId: 1 }, 'val', /cannot tell the node kind/);
  });

  it('rejects missing, mistyped and out-of-range ids', () => {
    fails({ kind: 'singleResource', type: 'STRING', value: 'x' }, { objectId: 1 }, 'val.id', 'missing id');
    fails({ kind: 'obj', instances: [] }, {}, 'val.id', 'missing id');
    fails({ kind: 'singleResource', id: 70000, type: 'STRING', value: 'x' }, { objectId: 1 }, 'val.id', 'id 70000 out of range 0-65535');
    fails({ kind: 'singleResource', id: '5', type: 'STRING', value: 'x' }, { objectId: 1 }, 'val.id', 'id must be an integer, got "5"');
    fails({ kind: 'singleResource', id: 1.5, type: 'STRING', value: 'x' }, { objectId: 1 }, 'val.id', /id must be an integer/);
    fails({ kind: 'resourceInstance', type: 'STRING', value: 'x' }, { objectId: 1, resourceId: 0 }, 'val.id', 'missing id');
  });

  it('rejects unknown, mistyped and NONE types', () => {
    fails({ kind: 'singleResource', id: 1, type: 'BLOB', value: 'x' }, { objectId: 1 }, 'val.type', 'unknown type "BLOB"');
    fails({ kind: 'singleResource', id: 1, type: 5, value: 'x' }, { objectId: 1 }, 'val.type', 'type must be a string, got 5');
    fails({ kind: 'singleResource', id: 4, type: 'NONE', value: '' }, { objectId: 3 }, 'val.type', 'type NONE carries no value');
    fails({ kind: 'multiResource', id: 4, type: 'none', values: {} }, { objectId: 3 }, 'val.type', 'type NONE carries no value');
  });

  it('rejects missing members and members of the wrong JS type', () => {
    fails({ kind: 'singleResource', id: 1, type: 'STRING' }, { objectId: 1 }, 'val.value', 'missing value');
    fails({ kind: 'multiResource', id: 1, type: 'STRING' }, { objectId: 1 }, 'val.values', 'missing values');
    fails({ kind: 'multiResource', id: 1, type: 'STRING', values: ['a'] }, { objectId: 1 }, 'val.values', /values must be an object/);
    fails({ kind: 'multiResource', id: 1, type: 'STRING', values: null }, { objectId: 1 }, 'val.values', /values must be an object/);
    fails({ kind: 'obj', id: 1 }, {}, 'val.instances', 'missing instances');
    fails({ kind: 'obj', id: 1, instances: {} }, {}, 'val.instances', 'instances must be an array, got an object');
    fails({ kind: 'instance', resources: 'x' }, { objectId: 1 }, 'val.resources', 'resources must be an array, got "x"');
    fails({ kind: 'root', objects: null }, {}, 'val.objects', 'objects must be an array, got null');
  });

  it('rejects nodes that are not objects', () => {
    for (const [x, shown] of [
      [null, 'null'],
      [[], 'an array'],
      ['x', '"x"'],
      [5, '5'],
      [undefined, 'nothing'],
    ] as const) {
      fails(x, { objectId: 1 }, 'val', `expected an object, got ${shown}`);
    }
    fails({ kind: 'obj', id: 1, instances: [[]] }, {}, 'val.instances[0]', 'expected an object, got an array');
    fails({ kind: 'instance', resources: [null] }, { objectId: 1 }, 'val.resources[0]', 'expected an object, got null');
  });

  it('rejects children of the wrong kind', () => {
    fails(
      { kind: 'obj', id: 1, instances: [{ kind: 'obj', id: 1, instances: [] }] },
      {},
      'val.instances[0]',
      'expected an instance node, got obj',
    );
    fails(
      { kind: 'instance', resources: [{ kind: 'instance', resources: [] }] },
      { objectId: 1 },
      'val.resources[0]',
      /expected a singleResource or multiResource node, got instance/,
    );
    fails(
      { kind: 'instance', resources: [{ kind: 'resourceInstance', id: 0, type: 'STRING', value: 'x' }] },
      { objectId: 1 },
      'val.resources[0]',
      /got resourceInstance/,
    );
    fails({ kind: 'root', objects: [{ kind: 'root', objects: [] }] }, {}, 'val.objects[0]', 'expected an obj node, got root');
  });

  it('rejects ids that contradict the context', () => {
    const write = { kind: 'singleResource', id: 15, type: 'STRING', value: 'Europe/Berlin' };
    fails(write, { objectId: 3, instanceId: 0, resourceId: 14 }, 'val.id', 'id 15 does not match resource id 14 of the path');
    fails({ kind: 'obj', id: 4, instances: [] }, { objectId: 3 }, 'val.id', 'id 4 does not match object id 3 of the path');
    fails(
      { kind: 'instance', id: 1, resources: [] },
      { objectId: 3, instanceId: 0 },
      'val.id',
      'id 1 does not match instance id 0 of the path',
    );
    fails(
      { kind: 'obj', id: 3, instances: [{ kind: 'instance', id: 1, resources: [] }] },
      { objectId: 3, instanceId: 0 },
      'val.instances[0].id',
      /does not match instance id 0/,
    );
    fails(
      { kind: 'resourceInstance', id: 2, type: 'STRING', value: 'x' },
      { objectId: 16, instanceId: 0, resourceId: 0, resourceInstanceId: 1 },
      'val.id',
      'id 2 does not match resource instance id 1 of the path',
    );
  });

  it('rejects nodes that need ids the context does not give', () => {
    fails(
      { kind: 'resourceInstance', id: 1, type: 'STRING', value: 'x' },
      { objectId: 16, instanceId: 0 },
      'val',
      /needs object and resource ids/,
    );
    fails({ kind: 'instance', resources: [] }, {}, 'val', 'an instance node needs an object id from the path or body');
    fails({ kind: 'singleResource', id: 1, type: 'STRING', value: 'x' }, {}, 'val', /needs an object id/);
    fails(
      { kind: 'singleResource', id: 1, type: 'STRING', value: 'x' },
      { objectId: 16, instanceId: 0, resourceId: 1, resourceInstanceId: 0 },
      'val',
      /does not fit a resource instance path/,
    );
  });

  it('rejects invalid context ids', () => {
    fails({ kind: 'singleResource', id: 1, type: 'STRING', value: 'x' }, { objectId: 70000 }, 'val', /object id 70000 of the path/);
    fails({ kind: 'singleResource', id: 1, type: 'STRING', value: 'x' }, { objectId: 'x' as unknown as number }, 'val', /object id "x"/);
  });
});

describe('flattenNode: hostile nesting', () => {
  const DEPTH = 100_000;

  it('stops at the first misplaced level of a deeply nested obj chain', () => {
    let node: unknown = { kind: 'obj', id: 1, instances: [] };
    for (let k = 0; k < DEPTH; k++) node = { kind: 'obj', id: 1, instances: [node] };
    fails(node, {}, 'val.instances[0]', 'expected an instance node, got obj');
  });

  it('stops at the first misplaced level of a deeply nested kind-less chain', () => {
    let node: unknown = { id: 0, value: 1 };
    for (let k = 0; k < DEPTH; k++) node = { resources: [node] };
    fails(node, { objectId: 3 }, 'val.resources[0]', /got instance/);
  });

  it('does not descend into nested value objects', () => {
    let inner: unknown = { objectId: 1, objectInstanceId: 1 };
    for (let k = 0; k < DEPTH; k++) inner = { objectId: inner, objectInstanceId: 0 };
    fails(
      { kind: 'singleResource', id: 22, type: 'OBJLNK', value: inner },
      { objectId: 3 },
      'val.value',
      /objectId an object is not an integer/,
    );
  });
});

describe('buildWriteNode: the bodies of docs/leshan-rest-api.md §2.3', () => {
  const body = (path: string, value: TypedValue | ReadonlyMap<number, TypedValue>): string =>
    JSON.stringify(buildWriteNode(parsePath(path), value));

  it('writes single resources of each type', () => {
    assert.equal(body('/3/0/14', str('+02:00')), '{"id":14,"kind":"singleResource","type":"STRING","value":"+02:00"}');
    assert.equal(body('/1/0/1', convertValue('INTEGER', 300)), '{"id":1,"kind":"singleResource","type":"INTEGER","value":"300"}');
    assert.equal(body('/1/0/6', convertValue('BOOLEAN', true)), '{"id":6,"kind":"singleResource","type":"BOOLEAN","value":true}');
    assert.equal(
      body('/3/0/13', convertValue('TIME', 1725000000000)),
      '{"id":13,"kind":"singleResource","type":"TIME","value":1725000000000}',
    );
    assert.equal(body('/5/0/0', convertValue('OPAQUE', 'CAFE01')), '{"id":0,"kind":"singleResource","type":"OPAQUE","value":"cafe01"}');
    assert.equal(
      body('/3/0/22', convertValue('OBJLNK', '3303:0')),
      '{"id":22,"kind":"singleResource","type":"OBJLNK","value":{"objectId":3303,"objectInstanceId":0}}',
    );
    // §2.3 shows FLOAT as the string "21.5"; Leshan takes a JSON number as well (deserializeValue: isNumber -> asDouble).
    assert.equal(body('/3303/0/5700', convertValue('FLOAT', '21.5')), '{"id":5700,"kind":"singleResource","type":"FLOAT","value":21.5}');
  });

  it('writes a multi-instance resource from a Map and a resource instance', () => {
    const values = new Map([
      [0, str('aa')],
      [1, str('bb')],
    ]);
    assert.equal(body('/16/0/0', values), '{"id":0,"kind":"multiResource","type":"STRING","values":{"0":"aa","1":"bb"}}');
    assert.equal(body('/16/0/0/1', str('bb')), '{"id":1,"kind":"resourceInstance","type":"STRING","value":"bb"}');
  });

  it('keeps big integers exact', () => {
    assert.equal(
      body('/1/0/1', convertValue('INTEGER', '9223372036854775807')),
      '{"id":1,"kind":"singleResource","type":"INTEGER","value":"9223372036854775807"}',
    );
  });

  it('produces bodies that read back to the same values', () => {
    const cases: [string, TypedValue | ReadonlyMap<number, TypedValue>][] = [
      ['/3/0/14', str('+02:00')],
      ['/3303/0/5700', convertValue('FLOAT', '21.5')],
      ['/3/0/22', convertValue('OBJLNK', '3303:0')],
      [
        '/16/0/0',
        new Map([
          [0, str('aa')],
          [1, str('bb')],
        ]),
      ],
      ['/16/0/0/1', str('bb')],
    ];
    for (const [path, value] of cases) {
      const p: LwM2mPath = parsePath(path);
      const read = flatten(buildWriteNode(p, value), p);
      const expected = value instanceof Map ? [...value].map(([ri, v]) => rv(`${path}/${ri}`, v)) : [rv(path, value as TypedValue)];
      assert.deepEqual(read, expected, path);
    }
  });

  it('refuses object and instance paths, and Maps at resource instance paths', () => {
    assert.throws(() => buildWriteNode(parsePath('/3'), str('x')), PathError);
    assert.throws(() => buildWriteNode(parsePath('/3/0'), str('x')), /not the instance path \/3\/0/);
    assert.throws(() => buildWriteNode(parsePath('/16/0/0/1'), new Map([[0, str('x')]])), PathError);
  });

  it('refuses empty, mixed or badly keyed Maps', () => {
    assert.throws(() => buildWriteNode(parsePath('/16/0/0'), new Map()), ValueError);
    assert.throws(
      () =>
        buildWriteNode(
          parsePath('/16/0/0'),
          new Map([
            [0, str('a')],
            [1, int('1')],
          ]),
        ),
      /is INTEGER but the other instances are STRING/,
    );
    assert.throws(() => buildWriteNode(parsePath('/16/0/0'), new Map([[70000, str('a')]])), PathError);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCompositePost, parseSinglePost, parseTimestampedPost } from '../../src/ingest/parsePost.js';
import { FieldError } from '../../src/lwm2m/fieldError.js';

function postError(fn: () => unknown): FieldError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FieldError, `expected FieldError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the post to be refused');
}

describe('parseSinglePost', () => {
  it('reads the seed example: obj_id + singleResource, instance 0', () => {
    const post = parseSinglePost({
      ep: 'qemu_x86',
      obj_id: 3303,
      val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '24.899181214836236' },
    });
    assert.deepEqual(post, {
      ep: 'qemu_x86',
      values: [{ objectId: 3303, instanceId: 0, resourceId: 5700, value: { type: 'FLOAT', value: 24.899181214836236 } }],
    });
  });

  it('takes another instance from inst_id, and keeps every instance of a multiResource', () => {
    const post = parseSinglePost({
      ep: 'd',
      obj_id: 3,
      inst_id: 2,
      val: { kind: 'multiResource', id: 6, type: 'INTEGER', values: { '0': '1', '1': 5 } },
    });
    assert.deepEqual(
      post.values.map((v) => [v.instanceId, v.resourceId, v.resourceInstanceId, v.value.value]),
      [
        [2, 6, 0, '1'],
        [2, 6, 1, '5'],
      ],
    );
  });

  it('reads the registration events the fork posts (TIME as a ms number)', () => {
    const post = parseSinglePost({ ep: 'd', obj_id: 10240, val: { kind: 'singleResource', id: 2, type: 'TIME', value: 1732550000123 } });
    assert.deepEqual(post.values[0], { objectId: 10240, instanceId: 0, resourceId: 2, value: { type: 'TIME', value: 1732550000123 } });
  });

  it('names the offending field', () => {
    assert.equal(postError(() => parseSinglePost([])).field, '(body)');
    assert.equal(postError(() => parseSinglePost({ obj_id: 3, val: {} })).message, 'missing ep');
    assert.equal(postError(() => parseSinglePost({ ep: 5, obj_id: 3, val: {} })).field, 'ep');
    assert.equal(postError(() => parseSinglePost({ ep: '', obj_id: 3, val: {} })).field, 'ep');
    assert.equal(postError(() => parseSinglePost({ ep: 'a\nb', obj_id: 3, val: {} })).field, 'ep');
    assert.equal(postError(() => parseSinglePost({ ep: 'x'.repeat(300), obj_id: 3, val: {} })).field, 'ep');
    assert.equal(postError(() => parseSinglePost({ ep: 'd', val: {} })).field, 'obj_id');
    assert.equal(postError(() => parseSinglePost({ ep: 'd', obj_id: '3', val: {} })).field, 'obj_id');
    assert.equal(postError(() => parseSinglePost({ ep: 'd', obj_id: 70000, val: {} })).field, 'obj_id');
    assert.equal(postError(() => parseSinglePost({ ep: 'd', obj_id: 3, inst_id: -1, val: {} })).field, 'inst_id');
    assert.equal(postError(() => parseSinglePost({ ep: 'd', obj_id: 3 })).field, 'val');
    const bad = postError(() =>
      parseSinglePost({ ep: 'd', obj_id: 3303, val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: 'warm' } }),
    );
    assert.equal(bad.field, 'val.value');
    const kind = postError(() => parseSinglePost({ ep: 'd', obj_id: 3303, val: { kind: 'blob', id: 1 } }));
    assert.equal(kind.field, 'val.kind');
  });
});

describe('parseCompositePost', () => {
  const device = {
    kind: 'obj',
    id: 3,
    instances: [
      {
        kind: 'instance',
        id: 0,
        resources: [
          { kind: 'singleResource', id: 0, type: 'STRING', value: 'Zephyr' },
          { kind: 'multiResource', id: 6, type: 'INTEGER', values: { '0': '1', '1': '5' } },
          { kind: 'singleResource', id: 17, type: 'STRING', value: 'qemu_x86' },
        ],
      },
    ],
  };

  it('reads what Leshan posts: val keyed by path, several objects', () => {
    const post = parseCompositePost({
      ep: 'qemu_x86',
      val: { '/3': device, '/3303/0/5700': { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '21.5' } },
    });
    assert.equal(post.ep, 'qemu_x86');
    assert.deepEqual(
      post.values.map(
        (v) => `${v.objectId}/${v.instanceId}/${v.resourceId}${v.resourceInstanceId === undefined ? '' : `/${v.resourceInstanceId}`}`,
      ),
      ['3/0/0', '3/0/6/0', '3/0/6/1', '3/0/17', '3303/0/5700'],
    );
  });

  it("reads the seed documentation's shape, where val is the obj node itself", () => {
    const post = parseCompositePost({ ep: 'qemu_x86', val: device });
    assert.equal(post.values.length, 4);
    assert.deepEqual(post.values[0]?.value, { type: 'STRING', value: 'Zephyr' });
  });

  it('refuses the whole post on one bad resource, naming it', () => {
    const err = postError(() =>
      parseCompositePost({
        ep: 'd',
        val: {
          '/3': {
            ...device,
            instances: [
              {
                ...device.instances[0],
                resources: [device.instances[0]!.resources[0], { kind: 'singleResource', id: 9, type: 'INTEGER', value: 'x' }],
              },
            ],
          },
        },
      }),
    );
    assert.equal(err.field, 'val["/3"].instances[0].resources[1].value');
    assert.match(err.message, /INTEGER/);
  });

  it('refuses keys that are not paths and a node that does not fit its path', () => {
    const key = postError(() => parseCompositePost({ ep: 'd', val: { '/x/1': device } }));
    assert.equal(key.field, 'val["/x/1"]');
    const mismatch = postError(() => parseCompositePost({ ep: 'd', val: { '/4': device } }));
    assert.equal(mismatch.field, 'val["/4"].id');
    assert.equal(postError(() => parseCompositePost({ ep: 'd', val: [] })).field, 'val');
    assert.equal(postError(() => parseCompositePost({ ep: 'd' })).field, 'val');
  });

  it('keeps the values beside a null node (a path the device left out, as Leshan M15 decodes SenML) and counts the null', () => {
    const post = parseCompositePost({
      ep: 'd',
      val: { '/3303/0/5700': null, '/3303/0/5701': { kind: 'singleResource', id: 5701, type: 'STRING', value: 'Cel' }, '/3/0/9': null },
    });
    assert.equal(post.nullNodes, 2);
    assert.deepEqual(
      post.values.map((v) => [v.objectId, v.resourceId, v.value.value]),
      [[3303, 5701, 'Cel']],
    );
    assert.equal(
      parseCompositePost({ ep: 'd', val: { '/3/0/9': { kind: 'singleResource', id: 9, type: 'INTEGER', value: '1' } } }).nullNodes,
      undefined,
    );
  });
});

describe('parseCompositePost: resource-level keys and object 10240 of the posts contract', () => {
  it('takes a singleResource keyed by its resource path (a notification of /3303/1/5700) in that instance', () => {
    const post = parseCompositePost({ ep: 'd', val: { '/3303/1/5700': { kind: 'singleResource', id: 5700, type: 'FLOAT', value: 21.5 } } });
    assert.deepEqual(post.values, [{ objectId: 3303, instanceId: 1, resourceId: 5700, value: { type: 'FLOAT', value: 21.5 } }]);
    const wrong = postError(() =>
      parseCompositePost({ ep: 'd', val: { '/3303/1/5700': { kind: 'singleResource', id: 5701, type: 'FLOAT', value: 1 } } }),
    );
    assert.equal(wrong.field, 'val["/3303/1/5700"].id');
  });

  it('refuses a registration detail of the wrong type, whole', () => {
    const err = postError(() =>
      parseCompositePost({
        ep: 'd',
        val: {
          '/10240/0/0': { kind: 'singleResource', id: 0, type: 'TIME', value: 1 },
          '/10240/0/5': { kind: 'singleResource', id: 5, type: 'STRING', value: 'true' },
        },
      }),
    );
    assert.equal(err.field, 'val');
    assert.match(err.message, /10240\/0\/5 must be BOOLEAN, not STRING/);
    const awake = postError(() =>
      parseSinglePost({ ep: 'd', obj_id: 10240, val: { kind: 'singleResource', id: 3, type: 'FLOAT', value: 1 } }),
    );
    assert.match(awake.message, /10240\/0\/3 must be TIME/);
  });
});

describe('parseTimestampedPost', () => {
  const temp = (value: number) => ({ kind: 'singleResource', id: 5700, type: 'FLOAT', value });
  it('gives each value the time of its entry, exact to the ns, null for "null" entries, in order', () => {
    const post = parseTimestampedPost({
      ep: 'd',
      val: [
        { '2026-11-29T04:00:00.123456789Z': { nodes: { '/3303/0/5700': temp(1), '/3303/1/5700': temp(2) } } },
        { null: { nodes: { '/3303/0/5700': temp(3) } } },
        {
          '2026-11-29T04:00:01Z': {
            nodes: { '/3/0/7': { kind: 'multiResource', id: 7, type: 'INTEGER', values: { '0': '3300', '1': '5000' } } },
          },
        },
      ],
    });
    assert.deepEqual(
      post.values.map((v, i) => [
        `${v.objectId}/${v.instanceId}/${v.resourceId}/${v.resourceInstanceId ?? ''}`,
        v.value.value,
        post.times![i]?.ns,
      ]),
      [
        ['3303/0/5700/', 1, 1_795_924_800_123_456_789n],
        ['3303/1/5700/', 2, 1_795_924_800_123_456_789n],
        ['3303/0/5700/', 3, undefined],
        ['3/0/7/0', '3300', 1_795_924_801_000_000_000n],
        ['3/0/7/1', '5000', 1_795_924_801_000_000_000n],
      ],
    );
    assert.equal(post.times![0]!.text, '2026-11-29T04:00:00.123456789Z');
    assert.equal(post.times![2], null);
    assert.equal(post.nullNodes, undefined);
  });

  it('skips and counts null nodes; an empty val is an empty post', () => {
    const post = parseTimestampedPost({
      ep: 'd',
      val: [{ '2026-11-29T04:00:00Z': { nodes: { '/3303/0/5700': null, '/3303/1/5700': temp(2) } } }],
    });
    assert.equal(post.nullNodes, 1);
    assert.equal(post.values.length, 1);
    assert.deepEqual(parseTimestampedPost({ ep: 'd', val: [] }), { ep: 'd', values: [], times: [] });
  });

  it('refuses the whole post at the first bad field, naming it', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ep: 'd' }, 'val', /missing val/],
      [{ ep: 'd', val: {} }, 'val', /array/],
      [{ ep: 'd', val: [1] }, 'val[0]', /object/],
      [{ ep: 'd', val: [{}] }, 'val[0]', /one key/],
      [{ ep: 'd', val: [{ null: { nodes: {} }, x: {} }] }, 'val[0]', /got 2/],
      [{ ep: 'd', val: [{ '2026-02-30T00:00:00Z': { nodes: {} } }] }, 'val[0]["2026-02-30T00:00:00Z"]', /day 30/],
      [{ ep: 'd', val: [{ '1732550000123': { nodes: {} } }] }, 'val[0]["1732550000123"]', /ISO-8601/],
      [{ ep: 'd', val: [{ null: {} }] }, 'val[0]["null"]', /nodes/],
      [{ ep: 'd', val: [{ null: { nodes: [] } }] }, 'val[0]["null"]', /nodes/],
      [{ ep: 'd', val: [{ null: { nodes: { '/x': temp(1) } } }] }, 'val[0]["null"].nodes["/x"]', /not an LwM2M path/],
      [
        {
          ep: 'd',
          val: [{ null: { nodes: {} } }, { '2026-11-29T04:00:00Z': { nodes: { '/3303/0/5700': { ...temp(1), value: 'warm' } } } }],
        },
        'val[1]["2026-11-29T04:00:00Z"].nodes["/3303/0/5700"].value',
        /FLOAT/,
      ],
      [{ ep: 'a\\b', val: [] }, 'ep', /./],
    ];
    for (const [body, field, message] of cases) {
      const err = postError(() => parseTimestampedPost(body));
      assert.equal(err.field, field, JSON.stringify(body));
      assert.match(err.message, message, JSON.stringify(body));
    }
  });
});

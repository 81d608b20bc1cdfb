import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listObjectModels, objectModel, resourceModel, type ResourceModel } from '../../src/lwm2m/objectModel.js';
import { RESOURCE_TYPES } from '../../src/lwm2m/value.js';

function res(objectId: number, resourceId: number): ResourceModel {
  const r = resourceModel(objectId, resourceId);
  assert.ok(r, `${objectId}/${resourceId} should be in the model`);
  return r;
}

function has(objectId: number, resourceId: number, expected: Omit<ResourceModel, 'id'>): void {
  assert.deepEqual(res(objectId, resourceId), { id: resourceId, ...expected });
}

describe('object model: spot checks against the OMA registry DDFs', () => {
  it('3/0 Manufacturer is a readable single STRING', () => {
    has(3, 0, { name: 'Manufacturer', type: 'STRING', multiple: false, operations: 'R' });
  });

  it('5/1 Package URI is a STRING (RW in the Firmware Update DDFs)', () => {
    has(5, 1, { name: 'Package URI', type: 'STRING', multiple: false, operations: 'RW' });
    has(5, 0, { name: 'Package', type: 'OPAQUE', multiple: false, operations: 'W' });
    assert.equal(resourceModel(5, 4), undefined); // Firmware Update 1.0 and 1.1 have no resource 4
  });

  it('3303/5700 Sensor Value is FLOAT', () => {
    has(3303, 5700, { name: 'Sensor Value', type: 'FLOAT', multiple: false, operations: 'R' });
  });

  it('1/6 Notification Storing is a BOOLEAN RW', () => {
    has(1, 6, { name: 'Notification Storing When Disabled or Offline', type: 'BOOLEAN', multiple: false, operations: 'RW' });
  });

  it('3/4 Reboot is executable', () => {
    has(3, 4, { name: 'Reboot', type: 'NONE', multiple: false, operations: 'E' });
  });

  it('3/6 Available Power Sources is a multiple INTEGER', () => {
    has(3, 6, { name: 'Available Power Sources', type: 'INTEGER', multiple: true, operations: 'R' });
  });

  it('10240 holds the registration events as TIME, presence and the registration details of the posts contract', () => {
    const o = objectModel(10240);
    assert.equal(o?.name, 'Registration Events');
    assert.equal(o?.resources.size, 9);
    has(10240, 0, { name: 'Registered', type: 'TIME', multiple: false, operations: 'R' });
    has(10240, 1, { name: 'Deregistered', type: 'TIME', multiple: false, operations: 'R' });
    has(10240, 2, { name: 'Updated', type: 'TIME', multiple: false, operations: 'R' });
    has(10240, 3, { name: 'Awake', type: 'TIME', multiple: false, operations: 'R' });
    has(10240, 4, { name: 'Sleeping', type: 'TIME', multiple: false, operations: 'R' });
    has(10240, 5, { name: 'Queue Mode', type: 'BOOLEAN', multiple: false, operations: 'R' });
    has(10240, 6, { name: 'Binding', type: 'STRING', multiple: false, operations: 'R' });
    has(10240, 7, { name: 'Object Links', type: 'STRING', multiple: false, operations: 'R' });
    has(10240, 8, { name: 'Lifetime', type: 'INTEGER', multiple: false, operations: 'R' });
  });

  it('has the LwM2M 1.1 additions and their exact types', () => {
    has(0, 13, { name: 'Matching Type', type: 'UNSIGNED_INTEGER', multiple: false, operations: '' });
    has(0, 17, { name: 'OSCORE Security Mode', type: 'OBJLNK', multiple: false, operations: '' });
    has(1, 12, { name: 'Last Bootstrapped', type: 'TIME', multiple: false, operations: 'R' });
    has(1, 23, { name: 'Mute Send', type: 'BOOLEAN', multiple: false, operations: 'RW' });
    has(3, 22, { name: 'ExtDevInfo', type: 'OBJLNK', multiple: true, operations: 'R' });
    has(4, 12, { name: 'LAC', type: 'INTEGER', multiple: false, operations: 'R' });
    has(6, 5, { name: 'Timestamp', type: 'TIME', multiple: false, operations: 'R' });
    has(7, 8, { name: 'Collection Period', type: 'INTEGER', multiple: false, operations: 'RW' });
  });
});

describe('object model: OMA objects 0-7', () => {
  // the newest version on Maven Central: leshan-lwm2m-core 2.0.0-M18 for 0 and 2-5, the demo jar for 1, 6 and 7
  const expected: [number, string, boolean, string, number][] = [
    [0, 'LWM2M Security', true, '1.2', 31],
    [1, 'LwM2M Server', true, '1.1', 24],
    [2, 'LwM2M Access Control', true, '1.1', 4],
    [3, 'Device', false, '1.2', 23],
    [4, 'Connectivity Monitoring', false, '1.3', 14],
    [5, 'Firmware Update', false, '1.1', 13],
    [6, 'Location', false, '1.0', 7],
    [7, 'Connectivity Statistics', false, '1.0', 9],
  ];

  it('has every object with its name, multiplicity, version and resource count', () => {
    for (const [id, name, multiple, version, count] of expected) {
      const o = objectModel(id);
      assert.ok(o, `object ${id}`);
      assert.equal(o.name, name);
      assert.equal(o.multiple, multiple, `${id} multiple`);
      assert.equal(o.version, version, `${id} version`);
      assert.equal(o.resources.size, count, `${id} resource count`);
    }
  });

  it('has the resources the newer core versions add', () => {
    has(4, 13, { name: 'Coverage Enhancement Level', type: 'INTEGER', multiple: false, operations: 'R' });
    has(5, 10, { name: 'Cancel', type: 'NONE', multiple: false, operations: 'E' });
    has(5, 13, { name: 'Maximum Defer Period', type: 'UNSIGNED_INTEGER', multiple: false, operations: 'RW' });
    has(0, 26, { name: 'MQTT Server', type: 'OBJLNK', multiple: false, operations: '' });
  });
});

describe('object model: IPSO objects 3300-3350', () => {
  const ipsoIds = Array.from({ length: 51 }, (_, k) => 3300 + k).filter((id) => id !== 3307 && id !== 3309);

  it('has every assigned IPSO object as a multi-instance object', () => {
    for (const id of ipsoIds) {
      const o = objectModel(id);
      assert.ok(o, `object ${id}`);
      assert.equal(o.multiple, true, `${id}`);
      assert.ok(o.resources.size > 0);
    }
    assert.equal(objectModel(3307), undefined);
    assert.equal(objectModel(3309), undefined);
  });

  it('shares one definition per reusable resource', () => {
    assert.equal(resourceModel(3303, 5700), resourceModel(3304, 5700));
    has(3303, 5701, { name: 'Sensor Units', type: 'STRING', multiple: false, operations: 'R' });
    has(3303, 5601, { name: 'Min Measured Value', type: 'FLOAT', multiple: false, operations: 'R' });
    has(3303, 5602, { name: 'Max Measured Value', type: 'FLOAT', multiple: false, operations: 'R' });
    has(3303, 5603, { name: 'Min Range Value', type: 'FLOAT', multiple: false, operations: 'R' });
    has(3303, 5604, { name: 'Max Range Value', type: 'FLOAT', multiple: false, operations: 'R' });
    has(3303, 5605, { name: 'Reset Min and Max Measured Values', type: 'NONE', multiple: false, operations: 'E' });
    has(3303, 5750, { name: 'Application Type', type: 'STRING', multiple: false, operations: 'RW' });
    has(3303, 5518, { name: 'Timestamp', type: 'TIME', multiple: false, operations: 'R' });
    has(3311, 5850, { name: 'On/Off', type: 'BOOLEAN', multiple: false, operations: 'RW' });
    has(3311, 5851, { name: 'Dimmer', type: 'INTEGER', multiple: false, operations: 'RW' });
    // 3336 is Location 1.1 here (5514-5516 STRING): its 2.0 (6051-6053 FLOAT) is newer than the registry on Maven Central
    has(3336, 5514, { name: 'Latitude', type: 'STRING', multiple: false, operations: 'R' });
    has(3339, 5522, { name: 'Clip', type: 'OPAQUE', multiple: false, operations: 'RW' });
    has(3349, 5912, { name: 'Element Description', type: 'STRING', multiple: true, operations: 'RW' });
  });

  it('lists only the resources of each object', () => {
    assert.deepEqual(
      [...objectModel(3303)!.resources.keys()].sort((a, b) => a - b),
      [5518, 5601, 5602, 5603, 5604, 5605, 5700, 5701, 5750, 6042, 6049, 6050],
    );
    assert.equal(resourceModel(3303, 5850), undefined);
    assert.equal(resourceModel(3311, 5700), undefined);
  });
});

describe('object model: invariants and lookups', () => {
  it('returns undefined for unknown objects and resources', () => {
    assert.equal(objectModel(9999), undefined);
    assert.equal(objectModel(40000), undefined);
    assert.equal(resourceModel(9999, 0), undefined);
    assert.equal(resourceModel(3, 9999), undefined);
  });

  it('types every resource with a Leshan type, NONE exactly for executables', () => {
    for (const o of listObjectModels()) {
      for (const [id, r] of o.resources) {
        assert.equal(r.id, id);
        assert.ok(RESOURCE_TYPES.includes(r.type), `${o.id}/${id} ${r.type}`);
        assert.equal(r.type === 'NONE', r.operations === 'E', `${o.id}/${id}`);
      }
    }
  });

  it('lists the 283 registry objects and 10240 by ascending id', () => {
    const ids = listObjectModels().map((o) => o.id);
    assert.equal(ids.length, 283 + 1);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
  });

  it('cannot be changed by callers', () => {
    const r = res(3, 0) as { name: string };
    assert.throws(() => {
      r.name = 'x';
    }, TypeError);
  });
});

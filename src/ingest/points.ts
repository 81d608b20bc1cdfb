/**
 * The InfluxDB schema of LwM2M values, as line protocol. Pure: no I/O.
 *
 * Data: measurement `lwm2m`, one series per endpoint and resource (instance):
 *   lwm2m,ep=dev1,inst=0,obj=3303,object=Temperature,res=5700,resource=Sensor\ Value,type=FLOAT float=24.9 <ns>
 * Tags: ep, obj, inst, res, ri (multi-instance resources only), type (the LwM2M type), and object/resource
 * names where the object model knows them. The field is named after the kind of value, so that one
 * field never holds two types (InfluxDB fixes a field's type at first write and rejects the rest):
 *   float  - FLOAT
 *   int    - INTEGER, UNSIGNED_INTEGER (up to 2^63-1), TIME (ms since epoch); written exactly, never via a float
 *   bool   - BOOLEAN
 *   string - STRING, CORELINK, OPAQUE (lower-case hex), OBJLNK ("3303:0"), UNSIGNED_INTEGER above 2^63-1
 * Registration lifecycle (object 10240): measurement `registration`, tags ep and event
 * (registered/deregistered/updated), field registration_time (int, ms: what Leshan sent).
 * Tags are written in sorted key order, which is what InfluxDB would otherwise sort them into.
 */
import { escape } from '@influxdata/influxdb-client';
import type { ResourceValue } from '../lwm2m/node.js';
import { objectModel, resourceModel } from '../lwm2m/objectModel.js';
import type { TypedValue } from '../lwm2m/value.js';

export const DATA_MEASUREMENT = 'lwm2m';
export const REGISTRATION_MEASUREMENT = 'registration';
export const REGISTRATION_OBJECT = 10240;

export type RegistrationEvent = 'registered' | 'deregistered' | 'updated';
const REGISTRATION_EVENTS: readonly RegistrationEvent[] = ['registered', 'deregistered', 'updated'];

/** The registration event a value of object 10240 stands for (resource 0, 1 or 2), if any. */
export function registrationEvent(v: ResourceValue): RegistrationEvent | undefined {
  return v.objectId === REGISTRATION_OBJECT ? REGISTRATION_EVENTS[v.resourceId] : undefined;
}

const INT64_MAX = '9223372036854775807';
const fitsInt64 = (digits: string): boolean =>
  digits.length < 19 || (digits.length === 19 && digits <= INT64_MAX) || (digits.startsWith('-') && digits.length <= 20);

/** The `field=value` part of the line for one value. */
export function fieldOf(v: TypedValue): string {
  switch (v.type) {
    case 'FLOAT':
      return `float=${v.value}`;
    case 'INTEGER':
      return `int=${v.value}i`;
    case 'UNSIGNED_INTEGER':
      return fitsInt64(v.value) ? `int=${v.value}i` : `string="${v.value}"`;
    case 'TIME':
      return `int=${v.value}i`;
    case 'BOOLEAN':
      return v.value ? 'bool=true' : 'bool=false';
    case 'OBJLNK':
      return `string="${v.value.objectId}:${v.value.objectInstanceId}"`;
    case 'STRING':
    case 'CORELINK':
    case 'OPAQUE':
      return `string=${escape.quoted(v.value)}`;
  }
}

/** `,object=...,` name tags per object and resource, escaped once and cached. */
const objectTags = new Map<number, string>();
const resourceTags = new Map<number, string>();

function objectTag(objectId: number): string {
  let tag = objectTags.get(objectId);
  if (tag === undefined) {
    const name = objectModel(objectId)?.name;
    tag = name ? `,object=${escape.tag(name)}` : '';
    objectTags.set(objectId, tag);
  }
  return tag;
}

function resourceTag(objectId: number, resourceId: number): string {
  const key = objectId * 65536 + resourceId;
  let tag = resourceTags.get(key);
  if (tag === undefined) {
    const name = resourceModel(objectId, resourceId)?.name;
    tag = name ? `,resource=${escape.tag(name)}` : '';
    resourceTags.set(key, tag);
  }
  return tag;
}

/** The tag value of an endpoint name, escaped for line protocol. */
export const endpointTag = (ep: string): string => escape.tag(ep);

/** One data line. `epTag` is the escaped endpoint name, `timestamp` the time in ns as digits. */
export function dataLine(epTag: string, v: ResourceValue, timestamp: string): string {
  const ri = v.resourceInstanceId === undefined ? '' : `,ri=${v.resourceInstanceId}`;
  return (
    `${DATA_MEASUREMENT},ep=${epTag},inst=${v.instanceId},obj=${v.objectId}${objectTag(v.objectId)}` +
    `,res=${v.resourceId}${resourceTag(v.objectId, v.resourceId)}${ri},type=${v.value.type} ${fieldOf(v.value)} ${timestamp}`
  );
}

/** One registration event line; the value is what Leshan sent (the registration time, ms). */
export function registrationLine(epTag: string, event: RegistrationEvent, v: ResourceValue, timestamp: string): string {
  const time = v.value.type === 'TIME' || v.value.type === 'INTEGER' || v.value.type === 'UNSIGNED_INTEGER' ? `${v.value.value}i` : '0i';
  return `${REGISTRATION_MEASUREMENT},ep=${epTag},event=${event} registration_time=${time} ${timestamp}`;
}

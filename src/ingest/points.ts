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
 * A value the device timestamped is written at the device's time; one whose device time could not be used
 * (too far in the future, before 2000) is written at arrival time with the device's time as it was posted
 * in a string field `device_time`.
 * Registration lifecycle (object 10240): measurement `registration`, tags ep and event
 * (registered/deregistered/updated), field registration_time (int, ms: what Leshan sent), and where
 * Leshan posted them queue_mode (bool), binding (string), object_links (string), lifetime (int, s).
 * Presence (10240/0/3 and /4): the same measurement, event awake/sleeping, field event_time (int, ms).
 * Tags are written in sorted key order, which is what InfluxDB would otherwise sort them into.
 * String fields: InfluxDB takes any character inside a quoted field value once `"` and `\` are escaped
 * (control characters, NUL, CR and LF included; see docs/influx-line-protocol.md). The one thing UTF-8
 * cannot carry is a lone UTF-16 surrogate (JSON can hold one, `"\ud800"`): it is replaced with U+FFFD and
 * counted (`repairedStringValues`).
 */
import { escape } from '@influxdata/influxdb-client';
import type { ResourceValue } from '../lwm2m/node.js';
import { objectModel, resourceModel } from '../lwm2m/objectModel.js';
import type { PresenceEvent, RegistrationDetails, RegistrationEvent } from '../lwm2m/registrationObject.js';
import { fitsInt64, type TypedValue } from '../lwm2m/value.js';

export const DATA_MEASUREMENT = 'lwm2m';
export const REGISTRATION_MEASUREMENT = 'registration';

/** `String.prototype.isWellFormed`/`toWellFormed` (ES2024, in Node 20; the project's lib is ES2023). */
type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };
const isWellFormed = (s: string): boolean => (s as unknown as WellFormed).isWellFormed();
const wellFormed = (s: string): string => (isWellFormed(s) ? s : (s as unknown as WellFormed).toWellFormed());

const QUOTE_OR_BACKSLASH = /["\\]/;
const QUOTES_AND_BACKSLASHES = /["\\]/g;

/**
 * A string as a quoted line-protocol field value: `"` and `\` escaped, nothing else touched, lone
 * surrogates as U+FFFD. Hot path: one native scan each when there is nothing to escape.
 */
export function quotedField(value: string): string {
  const s = wellFormed(value);
  return QUOTE_OR_BACKSLASH.test(s) ? `"${s.replace(QUOTES_AND_BACKSLASHES, '\\$&')}"` : `"${s}"`;
}

let repairedStrings = 0;

/** STRING/CORELINK values written so far whose lone surrogates became U+FFFD (process-wide). */
export const repairedStringValues = (): number => repairedStrings;

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
      return `string=${quotedField(v.value)}`;
  }
}

/**
 * `,object=...` and `,resource=...` name tags, escaped once and cached for the objects and resources the
 * models know: the caches are bounded by the models; an unknown id costs one map look-up and no memory.
 */
const objectTags = new Map<number, string>();
const resourceTags = new Map<number, string>();

function objectTag(objectId: number): string {
  const tag = objectTags.get(objectId);
  if (tag !== undefined) return tag;
  const name = objectModel(objectId)?.name;
  if (!name) return '';
  const made = `,object=${escape.tag(name)}`;
  objectTags.set(objectId, made);
  return made;
}

function resourceTag(objectId: number, resourceId: number): string {
  const key = objectId * 65536 + resourceId;
  const tag = resourceTags.get(key);
  if (tag !== undefined) return tag;
  const name = resourceModel(objectId, resourceId)?.name;
  if (!name) return '';
  const made = `,resource=${escape.tag(name)}`;
  resourceTags.set(key, made);
  return made;
}

/** How many name tags are cached (for tests: bounded by the object models). */
export const cachedNameTags = (): number => objectTags.size + resourceTags.size;

/** The tag value of an endpoint name, escaped for line protocol. */
export const endpointTag = (ep: string): string => escape.tag(ep);

/** The extra field of a value written at arrival time because its device time could not be used. */
export const deviceTimeField = (text: string): string => `,device_time=${quotedField(text)}`;

/**
 * One data line. `epTag` is the escaped endpoint name, `timestamp` the time in ns as digits, `extra` more
 * fields (`,name=value`, e.g. {@link deviceTimeField}).
 */
export function dataLine(epTag: string, v: ResourceValue, timestamp: string, extra = ''): string {
  const value = v.value;
  if ((value.type === 'STRING' || value.type === 'CORELINK') && !isWellFormed(value.value)) repairedStrings++;
  const ri = v.resourceInstanceId === undefined ? '' : `,ri=${v.resourceInstanceId}`;
  return (
    `${DATA_MEASUREMENT},ep=${epTag},inst=${v.instanceId},obj=${v.objectId}${objectTag(v.objectId)}` +
    `,res=${v.resourceId}${resourceTag(v.objectId, v.resourceId)}${ri},type=${v.value.type} ${fieldOf(v.value)}${extra} ${timestamp}`
  );
}

/** An integer field value of a TIME or integer value (0 otherwise, or when it does not fit in an int64). */
const intOf = (v: ResourceValue): string =>
  v.value.type === 'TIME' || ((v.value.type === 'INTEGER' || v.value.type === 'UNSIGNED_INTEGER') && fitsInt64(v.value.value))
    ? `${v.value.value}i`
    : '0i';

/** One registration event line; the value is what Leshan sent (the registration time, ms), `details` resources 5-8. */
export function registrationLine(
  epTag: string,
  event: RegistrationEvent,
  v: ResourceValue,
  timestamp: string,
  details: RegistrationDetails = {},
): string {
  let fields = `registration_time=${intOf(v)}`;
  if (details.queueMode !== undefined) fields += `,queue_mode=${details.queueMode}`;
  if (details.binding !== undefined) fields += `,binding=${quotedField(details.binding)}`;
  if (details.objectLinks !== undefined) fields += `,object_links=${quotedField(details.objectLinks)}`;
  if (details.lifetime !== undefined) fields += `,lifetime=${details.lifetime}i`;
  return `${REGISTRATION_MEASUREMENT},ep=${epTag},event=${event} ${fields} ${timestamp}`;
}

/** One presence line (10240/0/3 awake, /4 sleeping); the value is the time of the event (ms) as Leshan sent it. */
export function presenceLine(epTag: string, event: PresenceEvent, v: ResourceValue, timestamp: string): string {
  return `${REGISTRATION_MEASUREMENT},ep=${epTag},event=${event} event_time=${intOf(v)} ${timestamp}`;
}

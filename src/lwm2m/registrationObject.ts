/**
 * Object 10240: the registration lifecycle as the forked Leshan of the seed design posts it (and as the
 * daemon records Leshan's registration events): resource 0 registered, 1 deregistered, 2 updated, each
 * a TIME value holding the registration date (ms). This project's own Leshan server adds, in instance 0:
 * 3 awake and 4 sleeping (TIME, ms of the event), 5 queue mode (BOOLEAN), 6 binding (STRING), 7 object
 * links (STRING, CoRE link format) and 8 lifetime (INTEGER, s), the last four sent beside resource 0 or 2
 * (docs/leshan-posts.md). None of 0-8 is device data. Pure.
 */
import type { ResourceValue } from './node.js';
import { fitsInt64, type ResourceType } from './value.js';

export const REGISTRATION_OBJECT = 10240;

/** In resource id order: the event of resource `i` is REGISTRATION_EVENTS[i]. */
export const REGISTRATION_EVENTS = ['registered', 'deregistered', 'updated'] as const;

export type RegistrationEvent = (typeof REGISTRATION_EVENTS)[number];

/** Resources 3 and 4: Leshan saw the client wake, or marked it asleep. */
export const PRESENCE_EVENTS = ['awake', 'sleeping'] as const;
export type PresenceEvent = (typeof PRESENCE_EVENTS)[number];

/** The registration's details, resources 5-8. */
const QUEUE_MODE = 5;
const BINDING = 6;
const OBJECT_LINKS = 7;
const LIFETIME = 8;

/** The types each resource 0-8 may be posted with. */
const ALLOWED_TYPES: readonly (readonly ResourceType[])[] = [
  ['TIME', 'INTEGER', 'UNSIGNED_INTEGER'],
  ['TIME', 'INTEGER', 'UNSIGNED_INTEGER'],
  ['TIME', 'INTEGER', 'UNSIGNED_INTEGER'],
  ['TIME'],
  ['TIME'],
  ['BOOLEAN'],
  ['STRING'],
  ['STRING', 'CORELINK'],
  ['INTEGER', 'UNSIGNED_INTEGER'],
];

/** True for the values of object 10240 resources 0-8: registration lifecycle, presence, details. */
export const isRegistrationValue = (v: ResourceValue): boolean => v.objectId === REGISTRATION_OBJECT && v.resourceId <= LIFETIME;

/** Why a 10240 value does not fit the posts contract (its type), if it does not. */
export function registrationValueProblem(v: ResourceValue): string | undefined {
  if (!isRegistrationValue(v)) return undefined;
  const allowed = ALLOWED_TYPES[v.resourceId]!;
  if (allowed.includes(v.value.type)) return undefined;
  return `/${REGISTRATION_OBJECT}/${v.instanceId}/${v.resourceId} must be ${allowed.join(' or ')}, not ${v.value.type}`;
}

/** The registration event a value of object 10240 stands for (resource 0, 1 or 2), if any. */
export function registrationEventOf(v: ResourceValue): RegistrationEvent | undefined {
  return v.objectId === REGISTRATION_OBJECT ? REGISTRATION_EVENTS[v.resourceId] : undefined;
}

/** The presence event a value of object 10240 stands for (resource 3 or 4), if any. */
export function presenceEventOf(v: ResourceValue): PresenceEvent | undefined {
  return v.objectId === REGISTRATION_OBJECT ? PRESENCE_EVENTS[v.resourceId - 3] : undefined;
}

/** The object 10240 value for `event` of a registration made at `registrationDate` (ms). */
export function registrationValue(event: RegistrationEvent, registrationDate: number): ResourceValue {
  return {
    objectId: REGISTRATION_OBJECT,
    instanceId: 0,
    resourceId: REGISTRATION_EVENTS.indexOf(event),
    value: { type: 'TIME', value: registrationDate },
  };
}

/** The registration date a 10240 value carries (ms; 0 when it is not a TIME). */
export function registrationDateOf(v: ResourceValue): number {
  return v.value.type === 'TIME' ? v.value.value : 0;
}

/** What resources 5-8 say about a registration (each only when posted). */
export interface RegistrationDetails {
  queueMode?: boolean;
  binding?: string;
  /** As posted: CoRE link format. */
  objectLinks?: string;
  /** Seconds, canonical decimal. */
  lifetime?: string;
}

/** Resources 5-8 among `values` (values of other resources are ignored). */
export function registrationDetailsOf(values: readonly ResourceValue[]): RegistrationDetails {
  const details: RegistrationDetails = {};
  for (const { objectId, resourceId, value } of values) {
    if (objectId !== REGISTRATION_OBJECT) continue;
    if (resourceId === QUEUE_MODE && value.type === 'BOOLEAN') details.queueMode = value.value;
    else if (resourceId === BINDING && value.type === 'STRING') details.binding = value.value;
    else if (resourceId === OBJECT_LINKS && (value.type === 'STRING' || value.type === 'CORELINK')) details.objectLinks = value.value;
    else if (resourceId === LIFETIME && (value.type === 'INTEGER' || value.type === 'UNSIGNED_INTEGER') && fitsInt64(value.value))
      details.lifetime = value.value;
  }
  return details;
}

/** One link of a CoRE link format text (RFC 6690): `</3303/0>;ver=1.1` gives url `/3303/0`. */
export interface CoreLink {
  url: string;
  attributes: Record<string, string>;
}

/**
 * The links of a CoRE link format text, as Leshan's registration JSON lists them (`[{"url":"/3303/0",
 * "attributes":{...}}]`). Commas and semicolons inside `<...>` or quotes do not split; a part that is
 * not a `<url>` link is skipped.
 */
export function parseObjectLinks(text: string): CoreLink[] {
  const links: CoreLink[] = [];
  for (const part of splitOutside(text, ',')) {
    const [target, ...params] = splitOutside(part.trim(), ';');
    const m = /^<([^>]*)>$/.exec(target?.trim() ?? '');
    if (!m) continue;
    const attributes: Record<string, string> = {};
    for (const p of params) {
      const eq = p.indexOf('=');
      const name = (eq < 0 ? p : p.slice(0, eq)).trim();
      if (!name) continue;
      const raw = eq < 0 ? '' : p.slice(eq + 1).trim();
      attributes[name] = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    }
    links.push({ url: m[1]!, attributes });
  }
  return links;
}

/** `text` split at each `sep` that is outside quotes and angle brackets. */
function splitOutside(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angled = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && !angled) quoted = !quoted;
    else if (c === '<' && !quoted) angled = true;
    else if (c === '>' && !quoted) angled = false;
    else if (c === sep && !quoted && !angled) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Object 10240: the registration lifecycle as the forked Leshan of the seed design posts it (and as the
 * daemon records Leshan's registration events): resource 0 registered, 1 deregistered, 2 updated, each
 * a TIME value holding the registration date (ms). Not device data. Pure.
 */
import type { ResourceValue } from './node.js';

export const REGISTRATION_OBJECT = 10240;

/** In resource id order: the event of resource `i` is REGISTRATION_EVENTS[i]. */
export const REGISTRATION_EVENTS = ['registered', 'deregistered', 'updated'] as const;

export type RegistrationEvent = (typeof REGISTRATION_EVENTS)[number];

/** The registration event a value of object 10240 stands for (resource 0, 1 or 2), if any. */
export function registrationEventOf(v: ResourceValue): RegistrationEvent | undefined {
  return v.objectId === REGISTRATION_OBJECT ? REGISTRATION_EVENTS[v.resourceId] : undefined;
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

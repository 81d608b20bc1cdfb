import type { LogSink } from '../log/logger.js';
import { parsePath } from '../lwm2m/path.js';
import type { OperationStore } from './store.js';
import { validateCreate } from './validate.js';
import { errorFields } from '../log/errorText.js';

/** A path to keep observed: on every endpoint that has its object, or on the endpoints listed. */
export interface StandingObservation {
  path: string;
  endpoints?: string[];
}

/** The object ids in a registration's object links (`[{"url":"/3303/0"}]`, or 1.x `"</3303/0>"` strings). */
export function objectsOf(objectLinks: unknown[]): Set<number> {
  const ids = new Set<number>();
  for (const link of objectLinks) {
    const url = typeof link === 'string' ? link : typeof link === 'object' && link !== null ? (link as { url?: unknown }).url : undefined;
    const match = typeof url === 'string' ? /^<?\/(\d+)/.exec(url) : null;
    if (match) ids.add(Number(match[1]));
  }
  return ids;
}

export interface StandingObservationsOptions {
  list: readonly StandingObservation[];
  store: OperationStore;
  /** Operations were queued for `ep` (the endpoint registry sends them if it is awake). */
  queued: (ep: string) => void;
  log: LogSink;
  now?: () => number;
}

/**
 * Leshan forgets a device's observations when it registers again. The configured standing observations
 * are queued as `observe` operations after each registration (with the usual statuses), keyed by the
 * registration date so that the same registration heard twice (posts and event stream) queues them once.
 * With the event stream the registration's object links say which objects the device has; with posts
 * only, every endpoint gets every unrestricted path (a device without the object answers 4.04: FAILED).
 */
export class StandingObservations {
  private readonly list: readonly StandingObservation[];
  private readonly now: () => number;

  constructor(private readonly options: StandingObservationsOptions) {
    this.list = options.list;
    this.now = options.now ?? Date.now;
    for (const item of this.list) parsePath(item.path); // the config schema has checked it; fail loudly if not
  }

  async registered(ep: string, registrationDate: number, objectLinks?: unknown[]): Promise<void> {
    if (this.list.length === 0) return;
    const objects = objectLinks ? objectsOf(objectLinks) : undefined;
    let created = 0;
    for (const item of this.list) {
      if (item.endpoints && !item.endpoints.includes(ep)) continue;
      if (objects && !objects.has(parsePath(item.path).objectId)) continue;
      try {
        const input = validateCreate(ep, { kind: 'observe', path: item.path }, `standing:${registrationDate}:${item.path}`, this.now());
        const { replayed } = await this.options.store.create(input);
        if (!replayed) created++;
      } catch (err) {
        this.options.log.error({ ep, path: item.path, ...errorFields(err) }, 'could not queue a standing observation');
      }
    }
    if (created > 0) {
      this.options.log.info({ ep, created }, 'standing observations queued after registration');
      this.options.queued(ep);
    }
  }
}

/**
 * Names of objects outside the OMA registry table (a vendor's), learned from Leshan. The demo server's
 * `GET /api/objectspecs/{ep}` answers the object models Leshan holds for a registered client at the versions its
 * object links announce (docs/leshan-rest-api.md §1.4; a vendor object is among them when Leshan was started with
 * its DDF file, `-m <models folder>`). The daemon asks once per registration that brings an object id it has no
 * model of and has not asked about within `retryAfterMs`; one request at a time, a bounded queue. What it learns
 * goes to learnObjectModel (lwm2m/objectModel.ts): InfluxDB name tags, the type and operations writes are checked
 * against. A server without the route (this project's leshan-server/ answers 404) is not asked again for
 * `retryAfterMs`. docs/object-models.md.
 */
import { request } from 'undici';
import type { LogSink } from '../log/logger.js';
import { errorText } from '../log/errorText.js';
import { learnObjectModel, objectModel } from '../lwm2m/objectModel.js';
import type { ObjectRow, Operations, ResourceRow } from '../lwm2m/objectModels.js';
import type { ResourceType } from '../lwm2m/value.js';
import { leshanBase } from './baseUrl.js';

const MAX_ID = 65535;
const MAX_NAME = 200;
/** Resources kept of one object model (the largest registry object, 10326 Robot PM, has 67). */
export const MAX_RESOURCES_PER_OBJECT = 1024;
const OPERATIONS: ReadonlyMap<string, Operations> = new Map([
  ['NONE', ''],
  ['R', 'R'],
  ['W', 'W'],
  ['RW', 'RW'],
  ['E', 'E'],
]);
const TYPES: ReadonlyMap<string, ResourceType> = new Map(
  (['NONE', 'STRING', 'INTEGER', 'FLOAT', 'BOOLEAN', 'OPAQUE', 'TIME', 'OBJLNK', 'UNSIGNED_INTEGER', 'CORELINK'] as const).map((t) => [
    t.toLowerCase(),
    t,
  ]),
);

const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= MAX_ID;

/** A name fit for a tag: trimmed, 1-200 characters, no control characters; otherwise undefined. */
function nameOf(x: unknown): string | undefined {
  if (typeof x !== 'string') return undefined;
  const n = x.trim();
  // eslint-disable-next-line no-control-regex
  return n.length > 0 && n.length <= MAX_NAME && !/[\u0000-\u001f\u007f]/.test(n) ? n : undefined;
}

function resourceRow(x: unknown): ResourceRow | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const r = x as Record<string, unknown>;
  const name = nameOf(r.name);
  const operations = typeof r.operations === 'string' ? OPERATIONS.get(r.operations) : undefined;
  const type = typeof r.type === 'string' ? TYPES.get(r.type) : undefined;
  if (!isId(r.id) || name === undefined || operations === undefined || type === undefined) return undefined;
  if (r.instancetype !== 'multiple' && r.instancetype !== 'single') return undefined;
  return [r.id, name, type, operations, r.instancetype === 'multiple'];
}

/**
 * The object models of an objectspecs answer (Leshan's ObjectModelSerDes JSON: `[{id, name, instancetype, version,
 * resourcedefs: [{id, name, operations, instancetype, type, …}]}]`). A model without a usable id, name or
 * instancetype is left out (`refused`), and so is a resource definition that is not exactly as Leshan writes it.
 */
export function parseObjectSpecs(json: unknown): { models: ObjectRow[]; refused: number } {
  const models: ObjectRow[] = [];
  let refused = 0;
  if (!Array.isArray(json)) return { models, refused: 1 };
  for (const x of json) {
    const o = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
    const name = nameOf(o.name);
    if (!isId(o.id) || name === undefined || (o.instancetype !== 'multiple' && o.instancetype !== 'single')) {
      refused++;
      continue;
    }
    const resources: ResourceRow[] = [];
    const seen = new Set<number>();
    for (const rd of Array.isArray(o.resourcedefs) ? o.resourcedefs : []) {
      const row = resourceRow(rd);
      if (row === undefined || seen.has(row[0])) refused++;
      else if (resources.length < MAX_RESOURCES_PER_OBJECT) {
        seen.add(row[0]);
        resources.push(row);
      }
    }
    const version = typeof o.version === 'string' && /^\d{1,3}\.\d{1,3}$/.test(o.version) ? o.version : '1.0';
    models.push({ id: o.id, name, multiple: o.instancetype === 'multiple', version, resources });
  }
  return { models, refused };
}

/** The ids of the objects in a registration's object links (`[{"url":"/3303/0",…}]`) that have no model. */
export function unknownObjects(objectLinks: readonly unknown[] | undefined): number[] {
  const ids = new Set<number>();
  for (const l of objectLinks ?? []) {
    const url = typeof l === 'object' && l !== null ? (l as { url?: unknown }).url : undefined;
    const m = typeof url === 'string' ? /^\/(\d{1,5})(?:\/\d{1,5})?$/.exec(url) : null;
    if (!m) continue;
    const id = Number(m[1]);
    if (id <= MAX_ID && objectModel(id) === undefined) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

export interface ObjectSpecsOptions {
  /** Leshan's base URL (`leshan.url`). */
  url: string;
  /** How long one request may take in all, ms. */
  deadlineMs: number;
  /** Larger answers are not read. */
  maxResponseBytes: number;
  /** An object id asked about is not asked about again before this, ms; nor is a server that answered 404. Default 1 h. */
  retryAfterMs?: number;
  /** Registrations waiting for their request; more are dropped (the next registration asks again). Default 16. */
  maxQueued?: number;
  log?: LogSink;
  now?: () => number;
}

/** Learns the models Leshan reports for objects the daemon has none of. */
export class ObjectSpecs {
  /** Object ids asked about, with when: not asked about again before retryAfterMs (bounded). */
  private readonly asked = new Map<number, number>();
  private readonly queue: { ep: string; ids: number[] }[] = [];
  private readonly origin: string;
  private readonly basePath: string;
  private readonly retryAfterMs: number;
  private readonly maxQueued: number;
  private readonly now: () => number;
  private notServedUntil = 0;
  private running: Promise<void> | undefined;
  private readonly controller = new AbortController();
  /** Requests sent, objects learned, registrations dropped for a full queue. */
  readonly counts = { requests: 0, learned: 0, dropped: 0, failed: 0 };

  constructor(private readonly options: ObjectSpecsOptions) {
    ({ origin: this.origin, basePath: this.basePath } = leshanBase(options.url));
    this.retryAfterMs = options.retryAfterMs ?? 3600_000;
    this.maxQueued = options.maxQueued ?? 16;
    this.now = options.now ?? Date.now;
  }

  /** A registration (a new one, or one Leshan lists): asks Leshan about the objects it brings that have no model. */
  registered(ep: string, objectLinks: readonly unknown[] | undefined): void {
    const now = this.now();
    if (this.controller.signal.aborted || now < this.notServedUntil) return;
    const ids = unknownObjects(objectLinks).filter((id) => !(now - (this.asked.get(id) ?? -Infinity) < this.retryAfterMs));
    if (ids.length === 0) return;
    if (this.queue.length >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    for (const id of ids) {
      this.asked.delete(id);
      this.asked.set(id, now);
    }
    while (this.asked.size > 4 * 1024) this.asked.delete(this.asked.keys().next().value!);
    this.queue.push({ ep, ids });
    this.running ??= this.drain();
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops asking; a request in flight is cut. */
  stop(): void {
    this.queue.length = 0;
    this.controller.abort();
  }

  /** Works through the queue; `running` is cleared in the same step that finds it empty, so no job waits unseen. */
  private async drain(): Promise<void> {
    await null; // `running` holds this promise before the loop can end
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
        if (this.now() < this.notServedUntil) continue;
        await this.ask(job.ep, job.ids);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async ask(ep: string, ids: number[]): Promise<void> {
    const { log } = this.options;
    const path = `${this.basePath}/api/objectspecs/${encodeURIComponent(ep)}`;
    this.counts.requests++;
    let status: number;
    let text: string;
    try {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.options.deadlineMs)]);
      const res = await request(`${this.origin}${path}`, { method: 'GET', signal, headersTimeout: this.options.deadlineMs });
      status = res.statusCode;
      res.body.on('error', () => undefined); // an abort destroys the body with an error
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > this.options.maxResponseBytes) throw new Error(`answer larger than ${this.options.maxResponseBytes} bytes`);
        chunks.push(chunk);
      }
      text = Buffer.concat(chunks, bytes).toString('utf8');
    } catch (err) {
      this.counts.failed++;
      if (!this.controller.signal.aborted) log?.warn({ ep, objects: ids, err: errorText(err) }, 'could not ask Leshan for object models');
      return;
    }
    if (status === 404) {
      this.notServedUntil = this.now() + this.retryAfterMs;
      log?.info({ ep, objects: ids }, 'Leshan serves no /api/objectspecs: names of objects outside the OMA registry are not learned');
      return;
    }
    if (status !== 200) {
      this.counts.failed++;
      for (const id of ids) this.asked.delete(id); // e.g. 400: no longer registered; the next registration asks again
      log?.warn({ ep, objects: ids, status, answer: text.slice(0, 200) }, 'Leshan did not answer the object models');
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.counts.failed++;
      log?.warn({ ep, objects: ids }, 'Leshan answered object models that are not JSON');
      return;
    }
    const { models, refused } = parseObjectSpecs(json);
    const learned: number[] = [];
    for (const m of models) if (learnObjectModel(m) === 'learned') learned.push(m.id);
    this.counts.learned += learned.length;
    const unknown = ids.filter((id) => objectModel(id) === undefined);
    log?.info({ ep, learned, unknown, refused }, 'object models learned from Leshan');
  }
}

/** What tellingObjectSpecs needs of the daemon's EndpointActivity (ingest/ingest.ts), which this floor cannot import. */
export interface HearsRegistrations {
  registrationEvent(ep: string, event: string, value: never, info?: { objectLinks?: unknown[] }): void;
}

/**
 * `activity` as it is, but a new registration is also told to `specs` (after `activity` heard it). Every other
 * member is `activity`'s own (methods called on `activity` itself), so it stands wherever `activity` does.
 */
export function tellingObjectSpecs<A extends HearsRegistrations>(activity: A, specs: ObjectSpecs): A {
  const registrationEvent: HearsRegistrations['registrationEvent'] = (ep, event, value, info) => {
    activity.registrationEvent(ep, event, value, info);
    if (event === 'registered') specs.registered(ep, info?.objectLinks);
  };
  return new Proxy(activity, {
    get(target, prop) {
      if (prop === 'registrationEvent') return registrationEvent;
      const member: unknown = Reflect.get(target, prop, target);
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(target) : member;
    },
  });
}

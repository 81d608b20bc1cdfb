/*
 * Leshan's EventServlet events (SSE, docs/leshan-rest-api.md §5.3) and registration JSON (§6), parsed into typed values.
 * Pure: no I/O, never throws. Accepts both the 2.x (Jackson) and the 1.x (Gson) shapes:
 * - 1.x NOTIFICATION has no `kind` (`{"ep","res","val"}`), handled as a single notification;
 * - 1.x registrations have ISO-8601 dates and no `queuemode` (queue mode is then a `Q` in the binding).
 * What a hostile or broken Leshan could send is refused here, as an error: an endpoint name the daemon cannot
 * store (lwm2m/endpointName.ts: control characters, backslash, over 256 characters), and data nested deeper
 * than MAX_LESHAN_JSON_DEPTH (storing or serialising it would recurse past the stack).
 */
import { endpointNameProblem } from '../lwm2m/endpointName.js';
import { jsonNestingExceeds, MAX_LESHAN_JSON_DEPTH } from './jsonDepth.js';
import { errorText } from '../log/errorText.js';

/** A registration as `GET /api/clients` and the REGISTRATION / UPDATED / DEREGISTRATION events give it (§6). */
export interface Registration {
  endpoint: string;
  registrationId: string;
  /** ms since epoch (2.x numbers; 1.x ISO strings are converted). Absent when missing or unreadable. */
  registrationDate?: number;
  /** ms since epoch, like registrationDate. */
  lastUpdate?: number;
  /** `queuemode` (2.x); when absent (1.x), whether `bindingMode` contains `Q`. */
  queueMode: boolean;
  /** Present (2.x) only for a queue-mode client. */
  sleeping?: boolean;
  lwM2mVersion?: string;
  bindingMode?: string;
  objectLinks?: unknown[];
  /** The content formats the root link lists (`ct`), see listedContentFormats; absent when it lists none. */
  contentFormats?: number[];
}

/** Values keyed by LwM2M path (`/3303/0/5700`); each value is Leshan's node JSON (§2), as received. */
export type PathValues = Record<string, unknown>;

export type LeshanEvent =
  | { type: 'registration'; registration: Registration }
  | { type: 'updated'; registration: Registration; update: Record<string, unknown> }
  | { type: 'deregistration'; registration: Registration }
  | { type: 'awake'; ep: string }
  | { type: 'sleeping'; ep: string }
  | { type: 'notification'; ep: string; values: PathValues }
  | { type: 'send'; ep: string; values: PathValues }
  /** LM (≥ M17) only: the answer to a request Leshan queued for a sleeping client (§5.2); `response` is §4 JSON. */
  | { type: 'requestResponse'; ep: string; path?: string; requestId: string; response: unknown };

export interface LeshanEventError {
  /** The problem in words; it never quotes an endpoint name whole. */
  error: string;
  /** When the endpoint name is what is wrong: its first characters, JSON-quoted (for a log line). */
  badEndpoint?: string;
}

/** How much of a refused endpoint name is kept for the log. */
const NAME_PREVIEW_CHARS = 64;

/** The first characters of a refused name, JSON-quoted, with its length when cut. */
function namePreview(name: string): string {
  const head = JSON.stringify(name.slice(0, NAME_PREVIEW_CHARS));
  return name.length > NAME_PREVIEW_CHARS ? `${head}… (${name.length} characters)` : head;
}

/** An error for an endpoint name the daemon cannot store, or undefined when the name is fine. */
function badName(where: string, name: string): LeshanEventError | undefined {
  const problem = endpointNameProblem(name);
  return problem === undefined ? undefined : { error: `${where}: invalid endpoint name (${problem})`, badEndpoint: namePreview(name) };
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

/** A 2.x ms number or a 1.x ISO-8601 string → ms; anything else → undefined. */
function dateMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v !== '') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string' && v === '') return 'an empty string';
  return `a ${typeof v}`;
}

/**
 * One §6 registration. `endpoint` and `registrationId` are required (non-empty strings); optional fields of the
 * wrong type are left out rather than failing the whole registration.
 */
export function parseRegistration(json: unknown): Registration | LeshanEventError {
  if (!isObject(json)) return { error: `registration is ${describe(json)}, expected an object` };
  if (!nonEmptyString(json.endpoint)) return { error: `registration.endpoint is ${describe(json.endpoint)}, expected a string` };
  const bad = badName('registration.endpoint', json.endpoint);
  if (bad) return bad;
  if (!nonEmptyString(json.registrationId)) {
    return { error: `registration.registrationId is ${describe(json.registrationId)}, expected a string` };
  }
  const bindingMode = typeof json.bindingMode === 'string' ? json.bindingMode : undefined;
  const queueMode = typeof json.queuemode === 'boolean' ? json.queuemode : (bindingMode?.includes('Q') ?? false);
  const reg: Registration = { endpoint: json.endpoint, registrationId: json.registrationId, queueMode };
  const registrationDate = dateMs(json.registrationDate);
  if (registrationDate !== undefined) reg.registrationDate = registrationDate;
  const lastUpdate = dateMs(json.lastUpdate);
  if (lastUpdate !== undefined) reg.lastUpdate = lastUpdate;
  if (typeof json.sleeping === 'boolean') reg.sleeping = json.sleeping;
  if (typeof json.lwM2mVersion === 'string') reg.lwM2mVersion = json.lwM2mVersion;
  if (bindingMode !== undefined) reg.bindingMode = bindingMode;
  if (Array.isArray(json.objectLinks)) {
    reg.objectLinks = json.objectLinks;
    const formats = listedContentFormats(json.objectLinks);
    if (formats) reg.contentFormats = formats;
  }
  return reg;
}

/**
 * The content formats the root link of `objectLinks` lists (`ct`), as numbers; undefined when there is no root link
 * or it has no readable `ct`. The root link is the one at `/` or the one typed `rt="oma.lwm2m"`. Leshan keeps the
 * links as the device sent them: `{"url":"/","attributes":{"rt":"\"oma.lwm2m\"","ct":"\"60 110 112 11542 11543\""}}`
 * (a single format unquoted: `"ct":"11543"`); no other field of its registration JSON carries them (2.0.0-M4, M15, M18).
 */
export function listedContentFormats(objectLinks: readonly unknown[] | undefined): number[] | undefined {
  if (!objectLinks) return undefined;
  for (const link of objectLinks) {
    if (!isObject(link) || !isObject(link.attributes)) continue;
    const rt = link.attributes.rt;
    if (link.url !== '/' && !(typeof rt === 'string' && rt.replace(/"/g, '').split(/\s+/).includes('oma.lwm2m'))) continue;
    const ct = link.attributes.ct;
    const text = typeof ct === 'number' ? String(ct) : typeof ct === 'string' ? ct.replace(/"/g, '') : '';
    const codes = text
      .split(/\s+/)
      .filter((w) => /^\d{1,5}$/.test(w))
      .map(Number);
    return codes.length > 0 ? codes : undefined;
  }
  return undefined;
}

/** `GET /api/clients`: an array of §6 registrations. Malformed entries (and a non-array) are skipped, as are
 * entries whose endpoint name cannot be stored. */
export function parseRegistrations(json: unknown): Registration[] {
  if (!Array.isArray(json)) return [];
  const out: Registration[] = [];
  for (const entry of json) {
    const r = parseRegistration(entry);
    if (!('error' in r)) out.push(r);
  }
  return out;
}

function isError(v: unknown): v is LeshanEventError {
  return isObject(v) && typeof v.error === 'string';
}

function epOf(event: string, d: Json): string | LeshanEventError {
  if (!nonEmptyString(d.ep)) return { error: `${event}: ep is ${describe(d.ep)}, expected a string` };
  return badName(`${event}: ep`, d.ep) ?? d.ep;
}

function pathValues(event: string, v: unknown): PathValues | LeshanEventError {
  if (!isObject(v)) return { error: `${event}: val is ${describe(v)}, expected an object of path → node` };
  return v;
}

/** The Leshan events this module knows; any other name (COAPLOG, "message", …) is ignored. */
const KNOWN = new Set(['REGISTRATION', 'UPDATED', 'DEREGISTRATION', 'AWAKE', 'SLEEPING', 'NOTIFICATION', 'SEND', 'REQUEST_RESPONSE']);

/**
 * One SSE event (its `event:` name and its joined `data:` text) → a typed Leshan event.
 * - `undefined`: an event this daemon does not use (COAPLOG, unknown names): ignore it;
 * - `{ error }`: a known event whose data is not JSON or lacks a required field (the text names the problem).
 * Never throws.
 */
export function parseLeshanEvent(event: string, data: string): LeshanEvent | undefined | LeshanEventError {
  if (!KNOWN.has(event)) return undefined;
  if (jsonNestingExceeds(data, MAX_LESHAN_JSON_DEPTH))
    return { error: `${event}: data nested deeper than ${MAX_LESHAN_JSON_DEPTH} levels` };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (e) {
    return { error: `${event}: data is not JSON (${errorText(e)})` };
  }
  if (!isObject(json)) return { error: `${event}: data is ${describe(json)}, expected an object` };

  switch (event) {
    case 'REGISTRATION':
    case 'DEREGISTRATION': {
      const registration = parseRegistration(json);
      if (isError(registration)) return { ...registration, error: `${event}: ${registration.error}` };
      return { type: event === 'REGISTRATION' ? 'registration' : 'deregistration', registration };
    }
    case 'UPDATED': {
      const registration = parseRegistration(json.registration);
      if (isError(registration)) return { ...registration, error: `${event}: ${registration.error}` };
      if (!isObject(json.update)) return { error: `${event}: update is ${describe(json.update)}, expected an object` };
      return { type: 'updated', registration, update: json.update };
    }
    case 'AWAKE':
    case 'SLEEPING': {
      const ep = epOf(event, json);
      if (isError(ep)) return ep;
      return { type: event === 'AWAKE' ? 'awake' : 'sleeping', ep };
    }
    case 'NOTIFICATION': {
      const ep = epOf(event, json);
      if (isError(ep)) return ep;
      const kind = json.kind;
      if (kind === 'composite') {
        const values = pathValues(event, json.val);
        if (isError(values)) return values;
        return { type: 'notification', ep, values };
      }
      // 'single' (2.x) or no kind at all (1.x).
      if (kind !== undefined && kind !== 'single') {
        return { error: `${event}: kind is ${JSON.stringify(kind)}, expected "single" or "composite"` };
      }
      if (!nonEmptyString(json.res)) return { error: `${event}: res is ${describe(json.res)}, expected a path string` };
      if (!('val' in json)) return { error: `${event}: val is missing` };
      return { type: 'notification', ep, values: { [json.res]: json.val } };
    }
    case 'SEND': {
      const ep = epOf(event, json);
      if (isError(ep)) return ep;
      const values = pathValues(event, json.val);
      if (isError(values)) return values;
      return { type: 'send', ep, values };
    }
    case 'REQUEST_RESPONSE': {
      const ep = epOf(event, json);
      if (isError(ep)) return ep;
      if (!nonEmptyString(json.requestId)) {
        return { error: `${event}: requestId is ${describe(json.requestId)}, expected a string` };
      }
      if (!isObject(json.response)) {
        return { error: `${event}: response is ${describe(json.response)}, expected an object` };
      }
      const out: Extract<LeshanEvent, { type: 'requestResponse' }> = {
        type: 'requestResponse',
        ep,
        requestId: json.requestId,
        response: json.response,
      };
      if (json.path !== undefined) {
        if (typeof json.path !== 'string') return { error: `${event}: path is ${describe(json.path)}, expected a string` };
        out.path = json.path;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * What Leshan posts to /leshan_api/resource/{single,composite,timestamped}, validated and flattened into typed
 * values. Pure: no I/O. A post is taken whole or refused whole: the first bad field is named in the
 * error, nothing of that post is kept (the forked Leshan logs the 4xx, so a bug shows at once rather
 * than as silently missing series).
 */
import { FieldError } from '../lwm2m/fieldError.js';
import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { endpointNameProblem } from '../lwm2m/endpointName.js';
import { isValidId, parsePath, type PathError } from '../lwm2m/path.js';
import { registrationValueProblem } from '../lwm2m/registrationObject.js';
import { parseInstant, type DeviceTime } from './deviceTime.js';

export interface ParsedPost {
  ep: string;
  values: ResourceValue[];
  /** Paths of a composite post whose node is null (a value the device left out): skipped, counted. */
  nullNodes?: number;
  /** Timestamped posts: the device's time of `values[i]`, null where none was given (written at arrival time). */
  times?: (DeviceTime | null)[];
}

/** Object 10240 values must have the types of the posts contract (a wrong one is a bug to show at once). */
function checked(post: ParsedPost): ParsedPost {
  for (const v of post.values) {
    const problem = registrationValueProblem(v);
    if (problem !== undefined) throw new FieldError('val', problem);
  }
  return post;
}

function asBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FieldError('(body)', 'expected a JSON object');
  return body as Record<string, unknown>;
}

/** The endpoint name (see lwm2m/endpointName.ts for what it may be). */
export function parseEndpointName(x: unknown, field = 'ep'): string {
  const problem = endpointNameProblem(x);
  if (problem !== undefined) throw new FieldError(field, problem);
  return x as string;
}

function optionalId(body: Record<string, unknown>, key: string): number | undefined {
  const x = body[key];
  if (x === undefined) return undefined;
  if (!isValidId(x)) throw new FieldError(key, `${key} must be an integer 0-65535`);
  return x;
}

/**
 * `{"ep","obj_id","val":<node>}`. The node is usually a singleResource or multiResource of instance 0;
 * `inst_id` (optional) names another instance, and instance or obj nodes carry their own ids.
 */
export function parseSinglePost(raw: unknown): ParsedPost {
  const body = asBody(raw);
  const ep = parseEndpointName(body.ep);
  const objectId = body.obj_id;
  if (objectId === undefined) throw new FieldError('obj_id', 'missing obj_id');
  if (!isValidId(objectId)) throw new FieldError('obj_id', 'obj_id must be an integer 0-65535');
  const instanceId = optionalId(body, 'inst_id');
  if (body.val === undefined) throw new FieldError('val', 'missing val');
  const values: ResourceValue[] = [];
  flattenNode(body.val, instanceId === undefined ? { objectId } : { objectId, instanceId }, 'val', values);
  return checked({ ep, values });
}

const NODE_KEYS = ['kind', 'instances', 'resources', 'values', 'value'];

/**
 * `{"ep","val":{"/3":<obj node>,"/3303/0/5700":<resource node>,...}}` (what Leshan posts), or the seed
 * documentation's shape where `val` is the obj node itself.
 */
export function parseCompositePost(raw: unknown): ParsedPost {
  const body = asBody(raw);
  const ep = parseEndpointName(body.ep);
  const val = body.val;
  if (val === undefined) throw new FieldError('val', 'missing val');
  if (typeof val !== 'object' || val === null || Array.isArray(val)) {
    throw new FieldError('val', 'val must be an object of path -> node');
  }
  const values: ResourceValue[] = [];
  const entries = val as Record<string, unknown>;
  if (NODE_KEYS.some((k) => k in entries)) {
    flattenNode(val, {}, 'val', values);
    return checked({ ep, values });
  }
  const nullNodes = flattenKeyed(entries, 'val', values);
  return checked(nullNodes > 0 ? { ep, values, nullNodes } : { ep, values });
}

/** Flattens `{"<path>":<node>,...}` into `values`; returns how many nodes were null (skipped). */
function flattenKeyed(entries: Record<string, unknown>, base: string, values: ResourceValue[]): number {
  let nullNodes = 0;
  for (const key of Object.keys(entries)) {
    const field = `${base}[${JSON.stringify(key)}]`;
    let path;
    try {
      path = parsePath(key);
    } catch (err) {
      throw new FieldError(field, `key ${JSON.stringify(key)} is not an LwM2M path: ${(err as PathError).message}`);
    }
    // Leshan's SenML decoder (2.0.0-M15) gives a path the device left out as null, and the forked Leshan
    // posts it so: the values beside it are good, so they are kept and the gap is counted
    if (entries[key] === null) {
      nullNodes++;
      continue;
    }
    flattenNode(entries[key], path, field, values);
  }
  return nullNodes;
}

/**
 * `{"ep","val":[{"<ISO-8601 instant>"|"null":{"nodes":{"/3303/0/5700":<node>,...}}},...]}`: LwM2M Send and
 * timestamped notifications, one entry per timestamp in Leshan's order; `"null"` for nodes without a time.
 * Each entry is an object with exactly one key.
 */
export function parseTimestampedPost(raw: unknown): ParsedPost {
  const body = asBody(raw);
  const ep = parseEndpointName(body.ep);
  const val = body.val;
  if (val === undefined) throw new FieldError('val', 'missing val');
  if (!Array.isArray(val)) throw new FieldError('val', 'val must be an array of {"<ISO-8601 instant>" or "null": {"nodes": {...}}}');
  const values: ResourceValue[] = [];
  const times: (DeviceTime | null)[] = [];
  let nullNodes = 0;
  for (let i = 0; i < val.length; i++) {
    const entry: unknown = val[i];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new FieldError(`val[${i}]`, 'expected an object');
    const keys = Object.keys(entry);
    if (keys.length !== 1) throw new FieldError(`val[${i}]`, `expected one key (a timestamp or "null"), got ${keys.length}`);
    const key = keys[0]!;
    const field = `val[${i}][${JSON.stringify(key)}]`;
    let time: DeviceTime | null = null;
    if (key !== 'null') {
      const ns = parseInstant(key);
      if (typeof ns === 'string') throw new FieldError(field, `key ${JSON.stringify(key)} ${ns}`);
      time = { text: key, ns };
    }
    const content = (entry as Record<string, unknown>)[key];
    const nodes = typeof content === 'object' && content !== null ? (content as Record<string, unknown>).nodes : undefined;
    if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes)) {
      throw new FieldError(field, 'expected {"nodes": {"<path>": <node>, ...}}');
    }
    const before = values.length;
    nullNodes += flattenKeyed(nodes as Record<string, unknown>, `${field}.nodes`, values);
    for (let j = before; j < values.length; j++) times.push(time);
  }
  return checked(nullNodes > 0 ? { ep, values, times, nullNodes } : { ep, values, times });
}

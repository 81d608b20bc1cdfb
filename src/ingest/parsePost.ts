/**
 * What Leshan posts to /leshan_api/resource/{single,composite}, validated and flattened into typed
 * values. Pure: no I/O. A post is taken whole or refused whole: the first bad field is named in the
 * error, nothing of that post is kept (the forked Leshan logs the 4xx, so a bug shows at once rather
 * than as silently missing series).
 */
import { FieldError } from '../lwm2m/fieldError.js';
import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { endpointNameProblem } from '../lwm2m/endpointName.js';
import { isValidId, parsePath, type PathError } from '../lwm2m/path.js';

export interface ParsedPost {
  ep: string;
  values: ResourceValue[];
  /** Paths of a composite post whose node is null (a value the device left out): skipped, counted. */
  nullNodes?: number;
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
  return { ep, values };
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
    return { ep, values };
  }
  let nullNodes = 0;
  for (const key of Object.keys(entries)) {
    const field = `val[${JSON.stringify(key)}]`;
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
  return nullNodes > 0 ? { ep, values, nullNodes } : { ep, values };
}

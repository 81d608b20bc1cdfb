/**
 * What Leshan posts to /leshan_api/resource/{single,composite}, validated and flattened into typed
 * values. Pure: no I/O. A post is taken whole or refused whole: the first bad field is named in the
 * error, nothing of that post is kept (the forked Leshan logs the 4xx, so a bug shows at once rather
 * than as silently missing series).
 */
import { flattenNode, NodeError, type NodeContext, type ResourceValue } from '../lwm2m/node.js';
import { endpointNameProblem } from '../lwm2m/endpointName.js';
import { isValidId, parsePath, type PathError } from '../lwm2m/path.js';

export interface ParsedPost {
  ep: string;
  values: ResourceValue[];
}

/** A malformed post; `field` names the offending member of the body. */
export class PostError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'PostError';
  }
}

function asBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PostError('(body)', 'expected a JSON object');
  return body as Record<string, unknown>;
}

/** The endpoint name (see lwm2m/endpointName.ts for what it may be). */
export function parseEndpointName(x: unknown, field = 'ep'): string {
  const problem = endpointNameProblem(x);
  if (problem !== undefined) throw new PostError(field, problem);
  return x as string;
}

function optionalId(body: Record<string, unknown>, key: string): number | undefined {
  const x = body[key];
  if (x === undefined) return undefined;
  if (!isValidId(x)) throw new PostError(key, `${key} must be an integer 0-65535`);
  return x;
}

function flatten(node: unknown, ctx: NodeContext, field: string, out: ResourceValue[]): void {
  try {
    flattenNode(node, ctx, field, out);
  } catch (err) {
    if (err instanceof NodeError) throw new PostError(err.field, err.message);
    throw err;
  }
}

/**
 * `{"ep","obj_id","val":<node>}`. The node is usually a singleResource or multiResource of instance 0;
 * `inst_id` (optional) names another instance, and instance or obj nodes carry their own ids.
 */
export function parseSinglePost(raw: unknown): ParsedPost {
  const body = asBody(raw);
  const ep = parseEndpointName(body.ep);
  const objectId = body.obj_id;
  if (objectId === undefined) throw new PostError('obj_id', 'missing obj_id');
  if (!isValidId(objectId)) throw new PostError('obj_id', 'obj_id must be an integer 0-65535');
  const instanceId = optionalId(body, 'inst_id');
  if (body.val === undefined) throw new PostError('val', 'missing val');
  const values: ResourceValue[] = [];
  flatten(body.val, instanceId === undefined ? { objectId } : { objectId, instanceId }, 'val', values);
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
  if (val === undefined) throw new PostError('val', 'missing val');
  if (typeof val !== 'object' || val === null || Array.isArray(val)) {
    throw new PostError('val', 'val must be an object of path -> node');
  }
  const values: ResourceValue[] = [];
  const entries = val as Record<string, unknown>;
  if (NODE_KEYS.some((k) => k in entries)) {
    flatten(val, {}, 'val', values);
    return { ep, values };
  }
  for (const key of Object.keys(entries)) {
    const field = `val[${JSON.stringify(key)}]`;
    let path;
    try {
      path = parsePath(key);
    } catch (err) {
      throw new PostError(field, `key ${JSON.stringify(key)} is not an LwM2M path: ${(err as PathError).message}`);
    }
    flatten(entries[key], path, field, values);
  }
  return { ep, values };
}

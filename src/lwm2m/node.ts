/*
 * Leshan node JSON: flattening posted nodes into typed resource values, and building write bodies.
 *
 * Kinds are detected as Leshan's JacksonLwM2mNodeDeserializer does (`kind`, else `instances` -> obj,
 * `resources` -> instance, `values` -> multiResource, `value` -> singleResource), which also reads 1.x nodes
 * (no `kind`, no `type`; the type then comes from the object model). Each level accepts only the next one
 * (root > obj > instance > resource), so recursion depth is fixed whatever the body. Error field paths are
 * built only when something is wrong, so good input costs one cursor object per call.
 */
import { resourceModel } from './objectModel.js';
import { formatPath, isValidId, MAX_ID, PathError, pathLevel, type LwM2mPath } from './path.js';
import { FieldError } from './fieldError.js';
import { convertValue, describe, parseResourceType, toLeshanValue, ValueError, type ResourceType, type TypedValue } from './value.js';

/** One value of one resource (instance), with its full address. */
export interface ResourceValue {
  objectId: number;
  instanceId: number;
  resourceId: number;
  /** present for values of multi-instance resources */
  resourceInstanceId?: number;
  value: TypedValue;
}

/** Ids already fixed by the surrounding path or body, e.g. `obj_id` of a single post or the `/3` key of a composite. */
export interface NodeContext {
  objectId?: number;
  instanceId?: number;
  resourceId?: number;
  /** set when the node was read or written at a resource-instance path; a kind-less `value` node is then a resource instance */
  resourceInstanceId?: number;
}

type Kind = 'root' | 'obj' | 'instance' | 'multiResource' | 'singleResource' | 'resourceInstance';

/** Where in the body we are: the caller's prefix plus the array index at each level (-1: not inside one). */
interface Cursor {
  base: string;
  object: number;
  instance: number;
  resource: number;
}

type Json = Record<string, unknown>;

/**
 * Appends one {@link ResourceValue} per value in `node` to `out`.
 *
 * singleResource gives one value, multiResource one per resource instance, resourceInstance one (the resource id
 * comes from `ctx`), instance its resources (instance id from the node, else `ctx`, else 0), obj each instance,
 * root each object. A resource outside an instance node gets instance `ctx.instanceId` or 0. An id in the node
 * that contradicts `ctx` is an error. On error, `out` keeps the values appended before it.
 * @param field the location of `node` in the posted body, used as the prefix of {@link FieldError.field}
 * @throws FieldError when the node is malformed, a value does not fit its type, or the type is unknown.
 */
export function flattenNode(node: unknown, ctx: NodeContext, field: string, out: ResourceValue[]): void {
  const c: Cursor = { base: field, object: -1, instance: -1, resource: -1 };
  const objectId = contextId(ctx.objectId, 'object', field);
  const instanceId = contextId(ctx.instanceId, 'instance', field);
  const resourceId = contextId(ctx.resourceId, 'resource', field);
  const resourceInstanceId = contextId(ctx.resourceInstanceId, 'resource instance', field);
  const n = asObject(node, c);
  const kind = kindOf(n, c, resourceInstanceId >= 0);
  if (resourceInstanceId >= 0 && kind !== 'resourceInstance') {
    throw fail(c, '', `${aKind(kind)} node does not fit a resource instance path`);
  }
  switch (kind) {
    case 'root':
      return flattenRoot(n, c, objectId, instanceId, resourceId, out);
    case 'obj':
      return flattenObject(n, c, objectId, instanceId, resourceId, out);
    case 'instance':
      return flattenInstance(n, c, requireObjectId(objectId, c, kind), instanceId, resourceId, out);
    case 'singleResource':
    case 'multiResource':
      return flattenResource(n, kind, c, requireObjectId(objectId, c, kind), instanceId, resourceId, out);
    case 'resourceInstance':
      return flattenResourceInstance(n, c, objectId, instanceId, resourceId, resourceInstanceId, out);
  }
}

function flattenRoot(n: Json, c: Cursor, o: number, i: number, r: number, out: ResourceValue[]): void {
  const objects = arrayMember(n, 'objects', c);
  for (let k = 0; k < objects.length; k++) {
    c.object = k;
    c.instance = -1;
    c.resource = -1;
    const child = asObject(objects[k], c);
    expectKind(kindOf(child, c, false), 'obj', c);
    flattenObject(child, c, o, i, r, out);
  }
}

function flattenObject(n: Json, c: Cursor, o: number, i: number, r: number, out: ResourceValue[]): void {
  const id = requireId(n, c);
  if (o >= 0 && id !== o) throw fail(c, '.id', `id ${id} does not match object id ${o} of the path`);
  const instances = arrayMember(n, 'instances', c);
  for (let k = 0; k < instances.length; k++) {
    c.instance = k;
    c.resource = -1;
    const child = asObject(instances[k], c);
    expectKind(kindOf(child, c, false), 'instance', c);
    flattenInstance(child, c, id, i, r, out);
  }
}

function flattenInstance(n: Json, c: Cursor, o: number, i: number, r: number, out: ResourceValue[]): void {
  const id = n.id === undefined ? -1 : requireId(n, c);
  if (id >= 0 && i >= 0 && id !== i) throw fail(c, '.id', `id ${id} does not match instance id ${i} of the path`);
  const instanceId = id >= 0 ? id : i >= 0 ? i : 0;
  const resources = arrayMember(n, 'resources', c);
  for (let k = 0; k < resources.length; k++) {
    c.resource = k;
    const child = asObject(resources[k], c);
    const kind = kindOf(child, c, false);
    if (kind !== 'singleResource' && kind !== 'multiResource') {
      throw fail(c, '', `expected a singleResource or multiResource node, got ${kind}`);
    }
    flattenResource(child, kind, c, o, instanceId, r, out);
  }
}

function flattenResource(
  n: Json,
  kind: 'singleResource' | 'multiResource',
  c: Cursor,
  o: number,
  i: number,
  r: number,
  out: ResourceValue[],
): void {
  const id = requireId(n, c);
  if (r >= 0 && id !== r) throw fail(c, '.id', `id ${id} does not match resource id ${r} of the path`);
  const instanceId = i >= 0 ? i : 0;
  const type = resolveType(n, c, o, id);
  if (kind === 'singleResource') {
    if (n.value === undefined) throw fail(c, '.value', 'missing value');
    out.push({ objectId: o, instanceId, resourceId: id, value: convert(type, n.value, c, '.value') });
    return;
  }
  const values = n.values;
  if (values === undefined) throw fail(c, '.values', 'missing values');
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw fail(c, '.values', `values must be an object keyed by resource instance id, got ${describe(values)}`);
  }
  for (const key in values) {
    if (!Object.hasOwn(values, key)) continue;
    const ri = idFromKey(key);
    if (ri < 0) {
      const why = ri === -1 ? 'is not a number' : `is out of range 0-${MAX_ID}`;
      throw fail(c, valuesField(key), `resource instance id ${describe(key)} ${why}`);
    }
    const raw = (values as Json)[key];
    out.push({ objectId: o, instanceId, resourceId: id, resourceInstanceId: ri, value: convert(type, raw, c, valuesField(key)) });
  }
}

function flattenResourceInstance(n: Json, c: Cursor, o: number, i: number, r: number, ri: number, out: ResourceValue[]): void {
  if (o < 0 || r < 0) throw fail(c, '', 'a resourceInstance node needs object and resource ids from the path');
  const id = requireId(n, c);
  if (ri >= 0 && id !== ri) throw fail(c, '.id', `id ${id} does not match resource instance id ${ri} of the path`);
  const type = resolveType(n, c, o, r);
  if (n.value === undefined) throw fail(c, '.value', 'missing value');
  out.push({
    objectId: o,
    instanceId: i >= 0 ? i : 0,
    resourceId: r,
    resourceInstanceId: id,
    value: convert(type, n.value, c, '.value'),
  });
}

function kindOf(n: Json, c: Cursor, atResourceInstance: boolean): Kind {
  const k = n.kind;
  if (k !== undefined) {
    if (typeof k !== 'string') throw fail(c, '.kind', `kind must be a string, got ${describe(k)}`);
    switch (k) {
      case 'root':
      case 'obj':
      case 'instance':
      case 'multiResource':
      case 'singleResource':
      case 'resourceInstance':
        return k;
    }
    throw fail(c, '.kind', `unknown kind ${describe(k)}`);
  }
  // Leshan 1.x nodes carry no kind: tell it from the members, in Leshan's order.
  if (n.instances !== undefined) return 'obj';
  if (n.resources !== undefined) return 'instance';
  if (n.values !== undefined) return 'multiResource';
  if (n.value !== undefined) return atResourceInstance ? 'resourceInstance' : 'singleResource';
  throw fail(c, '', 'cannot tell the node kind: no kind, instances, resources, values or value');
}

function aKind(kind: Kind): string {
  return kind === 'obj' || kind === 'instance' ? `an ${kind}` : `a ${kind}`;
}

function expectKind(kind: Kind, expected: Kind, c: Cursor): void {
  if (kind !== expected) throw fail(c, '', `expected ${aKind(expected)} node, got ${kind}`);
}

function resolveType(n: Json, c: Cursor, objectId: number, resourceId: number): ResourceType {
  const t = n.type;
  let type: ResourceType | undefined;
  if (t === undefined) {
    type = resourceModel(objectId, resourceId)?.type;
    if (type === undefined) {
      throw fail(c, '.type', `missing type (resource ${resourceId} of object ${objectId} is not in the object model)`);
    }
  } else {
    type = parseResourceType(t);
    if (type === undefined) {
      throw fail(c, '.type', typeof t === 'string' ? `unknown type ${describe(t)}` : `type must be a string, got ${describe(t)}`);
    }
  }
  if (type === 'NONE') throw fail(c, '.type', 'type NONE carries no value');
  return type;
}

function convert(type: ResourceType, raw: unknown, c: Cursor, tail: string): TypedValue {
  try {
    return convertValue(type, raw);
  } catch (e) {
    if (e instanceof ValueError) throw fail(c, tail, e.message);
    throw e;
  }
}

function requireId(n: Json, c: Cursor): number {
  const x = n.id;
  if (x === undefined) throw fail(c, '.id', 'missing id');
  if (typeof x !== 'number' || !Number.isInteger(x)) throw fail(c, '.id', `id must be an integer, got ${describe(x)}`);
  if (x < 0 || x > MAX_ID) throw fail(c, '.id', `id ${x} out of range 0-${MAX_ID}`);
  return x;
}

function requireObjectId(objectId: number, c: Cursor, kind: Kind): number {
  if (objectId < 0) throw fail(c, '', `${aKind(kind)} node needs an object id from the path or body`);
  return objectId;
}

function contextId(x: number | undefined, what: string, field: string): number {
  if (x === undefined) return -1;
  if (!isValidId(x)) throw new FieldError(field, `${what} id ${describe(x)} of the path is not an integer 0-${MAX_ID}`);
  return x;
}

function asObject(x: unknown, c: Cursor): Json {
  if (typeof x === 'object' && x !== null && !Array.isArray(x)) return x as Json;
  throw fail(c, '', `expected an object, got ${describe(x)}`);
}

function arrayMember(n: Json, name: 'objects' | 'instances' | 'resources', c: Cursor): unknown[] {
  const a = n[name];
  if (Array.isArray(a)) return a;
  throw fail(c, `.${name}`, a === undefined ? `missing ${name}` : `${name} must be an array, got ${describe(a)}`);
}

/** A decimal resource-instance id: the id, -1 if not digits, -2 if above MAX_ID. */
function idFromKey(key: string): number {
  if (key.length === 0) return -1;
  let n = 0;
  for (let k = 0; k < key.length; k++) {
    const ch = key.charCodeAt(k);
    if (ch < 0x30 || ch > 0x39) return -1;
    if (n <= MAX_ID) n = n * 10 + (ch - 0x30);
  }
  return n > MAX_ID ? -2 : n;
}

function valuesField(key: string): string {
  return `.values[${JSON.stringify(key)}]`;
}

function fail(c: Cursor, tail: string, message: string): FieldError {
  let field = c.base;
  if (c.object >= 0) field += `.objects[${c.object}]`;
  if (c.instance >= 0) field += `.instances[${c.instance}]`;
  if (c.resource >= 0) field += `.resources[${c.resource}]`;
  field += tail;
  return new FieldError(field.startsWith('.') ? field.slice(1) : field, message);
}

/**
 * The body Leshan expects for a write to a resource (`singleResource`, or `multiResource` with `values` keyed by
 * resource-instance id when given a Map) or to a resource instance (`resourceInstance`).
 * @throws PathError for object or instance paths, or a Map at a resource-instance path.
 * @throws ValueError for an empty Map or one mixing types.
 */
export function buildWriteNode(path: LwM2mPath, value: TypedValue | ReadonlyMap<number, TypedValue>): unknown {
  const level = pathLevel(path);
  if (level === 'resource') {
    const id = path.resourceId!;
    if (!isMap(value)) return { id, kind: 'singleResource', type: value.type, value: toLeshanValue(value) };
    const { type, values } = multiValues(value, formatPath(path));
    return { id, kind: 'multiResource', type, values };
  }
  if (level === 'resourceInstance') {
    if (isMap(value)) throw new PathError(`${formatPath(path)} is a resource instance path: it takes one value, not a map`);
    return { id: path.resourceInstanceId!, kind: 'resourceInstance', type: value.type, value: toLeshanValue(value) };
  }
  throw new PathError(`a write needs a resource or resource instance path, not the ${level} path ${formatPath(path)}`);
}

function multiValues(map: ReadonlyMap<number, TypedValue>, where: string): { type: ResourceType; values: Json } {
  let type: ResourceType | undefined;
  const values: Json = {};
  for (const [ri, v] of map) {
    if (!isValidId(ri)) throw new PathError(`${where}: resource instance id ${describe(ri)} out of range 0-${MAX_ID}`);
    if (type === undefined) type = v.type;
    else if (v.type !== type) throw new ValueError(`${where}/${ri} is ${v.type} but the other instances are ${type}`);
    values[String(ri)] = toLeshanValue(v);
  }
  if (type === undefined) throw new ValueError(`${where}: a multi-instance write needs at least one value`);
  return { type, values };
}

function isMap<V>(x: V | ReadonlyMap<number, V>): x is ReadonlyMap<number, V> {
  return x instanceof Map;
}

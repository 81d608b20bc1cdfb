// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * LwM2M node JSON as the demo server handles it: JacksonLwM2mNodeDeserializer for write bodies (§2.1, §2.2, §8.6)
 * and a default read content per path.
 */
import { resourceModel } from '../../src/lwm2m/objectModel.js';
import type { ResourceType } from '../../src/lwm2m/value.js';
import { jsonProcessing, npe, runtime, type LwPath } from './java.js';

export type NodeClass = 'LwM2mObject' | 'LwM2mObjectInstance' | 'LwM2mSingleResource' | 'LwM2mMultipleResource' | 'LwM2mResourceInstance';

export interface ParsedNode {
  cls: NodeClass;
  /** null for an object instance sent without id (create lets the device choose). */
  id: number | null;
  type?: string;
  children?: ParsedNode[];
}

const TYPES = new Set(['STRING', 'INTEGER', 'UNSIGNED_INTEGER', 'FLOAT', 'BOOLEAN', 'OPAQUE', 'TIME', 'OBJLNK', 'CORELINK', 'NONE']);
const LONG_MAX = 9223372036854775807n;
const ULONG_MAX = 18446744073709551615n;
const JSON_NODE = 'com.fasterxml.jackson.databind.JsonNode';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Jackson JsonNode.asInt(). */
function asInt(v: unknown): number {
  if (typeof v === 'number') return Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    return v.trim() !== '' && Number.isFinite(n) ? asInt(n) : 0;
  }
  return 0;
}

/** Jackson JsonNode.asText(). */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function nodeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function parseType(o: Obj): string {
  if (o.type === undefined) {
    throw npe(`Cannot invoke "${JSON_NODE}.asText()" because the return value of "${JSON_NODE}.get(String)" is null`);
  }
  const t = asText(o.type).toUpperCase();
  if (!TYPES.has(t)) throw runtime(`No enum constant org.eclipse.leshan.core.model.ResourceModel.Type.${t}`);
  return t;
}

function raise(v: unknown, type: string, expected: string, post: string | null = null): never {
  throw runtime(
    `Unexpected JSON type of 'value' field [${JSON.stringify(v)}]: a JSON ${expected} is expected for ${type} ` +
      `but was ${nodeType(v)}. ${post}`,
  );
}

const isLong = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 63;
const NUMBER_TOLERATED = '(number is tolerated but not advised)';

/** deserializeValue: every failure is an IllegalArgumentException (500 at root level). */
function checkValue(v: unknown, type: string): void {
  switch (type) {
    case 'BOOLEAN':
      if (typeof v !== 'boolean') raise(v, type, 'boolean');
      return;
    case 'STRING':
      if (typeof v !== 'string') raise(v, type, 'string');
      return;
    case 'INTEGER':
      if (typeof v === 'string') {
        if (!/^[+-]?\d+$/.test(v) || BigInt(v) > LONG_MAX || BigInt(v) < -LONG_MAX - 1n) {
          throw runtime(`${JSON.stringify(v)} is not a valid Long.`);
        }
      } else if (!isLong(v)) raise(v, type, 'string', NUMBER_TOLERATED);
      return;
    case 'UNSIGNED_INTEGER':
      if (typeof v === 'string') {
        if (!/^[+-]?\d+$/.test(v) || BigInt(v) < 0n || BigInt(v) > ULONG_MAX) {
          throw runtime(`${JSON.stringify(v)} is not a valid Unsigned Long.`);
        }
      } else if (!(typeof v === 'number' && Number.isInteger(v))) raise(v, type, 'string', NUMBER_TOLERATED);
      return;
    case 'FLOAT':
      if (typeof v === 'string') {
        // Double.parseDouble: trims, accepts an f/d suffix; NaN and Infinity are then refused.
        const t = v.trim();
        const ok = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/.test(t);
        if (!ok || !Number.isFinite(Number(t.replace(/[fFdD]$/, '')))) {
          throw runtime(`${JSON.stringify(v)} is not a valid Double.`);
        }
      } else if (typeof v !== 'number') raise(v, type, 'string', '(number is tolerated but not adviced)');
      return;
    case 'TIME':
      if (!isLong(v)) raise(v, type, 'number(long)');
      return;
    case 'OPAQUE':
      if (typeof v !== 'string') raise(v, type, 'string');
      if (v.length % 2 !== 0) throw runtime('Odd number of characters.');
      for (let i = 0; i < v.length; i++) {
        if (!/[0-9a-fA-F]/.test(v.charAt(i))) throw runtime(`Illegal hexadecimal character ${v.charAt(i)} at index ${i}`);
      }
      return;
    case 'OBJLNK': {
      const int = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && Math.abs(x) <= 2147483647;
      if (isObj(v) && int(v.objectId) && int(v.objectInstanceId)) return;
      raise(v, type, 'object{objectId:integer, objectInstanceId:integer}');
      return;
    }
    case 'CORELINK':
      if (typeof v !== 'string') raise(v, type, 'object{objectId:integer, objectInstanceId:integer}');
      if (v !== '' && !v.split(',').every((l) => /^\s*<[^>]*>/.test(l))) throw runtime(`Invalid Links: ${v}`);
      return;
    default:
      throw runtime(`Type ${type} is not supported for now`);
  }
}

function checkId(id: number, what: string, max = 65535): void {
  if (id < 0 || id > max) throw runtime(`Invalid ${what} id ${id}, It MUST be an unsigned 16 bits integer.`);
}

function children(o: Obj, field: string, want: NodeClass[], wantName: string): ParsedNode[] {
  const arr = o[field];
  if (arr === undefined) {
    throw npe(`Cannot invoke "${JSON_NODE}.size()" because the return value of "${JSON_NODE}.get(String)" is null`);
  }
  if (!Array.isArray(arr)) {
    if (isObj(arr) && Object.keys(arr).length > 0) throw runtime(`${field} element is not an array`);
    return [];
  }
  return arr.map((el) => {
    const child = deserializeNode(el);
    if (!want.includes(child.cls)) {
      throw runtime(`class org.eclipse.leshan.core.node.${child.cls} cannot be cast to class org.eclipse.leshan.core.node.${wantName}`);
    }
    return child;
  });
}

/** JacksonLwM2mNodeDeserializer.deserialize on an already parsed JSON value. */
export function deserializeNode(o: unknown): ParsedNode {
  if (!isObj(o)) throw jsonProcessing('Invalid node element');
  const id = has(o, 'id') ? asInt(o.id) : null;
  const kind = has(o, 'kind') ? asText(o.kind) : null;
  if (kind === 'obj' || has(o, 'instances')) {
    if (id === null) throw jsonProcessing('Missing id');
    const instances = children(o, 'instances', ['LwM2mObjectInstance'], 'LwM2mObjectInstance');
    checkId(id, 'object');
    return { cls: 'LwM2mObject', id, children: instances };
  }
  if (kind === 'instance' || has(o, 'resources')) {
    const resources = children(o, 'resources', ['LwM2mSingleResource', 'LwM2mMultipleResource'], 'LwM2mResource');
    if (id !== null) checkId(id, 'object instance', 65534);
    return { cls: 'LwM2mObjectInstance', id, children: resources };
  }
  if (kind === 'multiResource' || has(o, 'values')) {
    if (id === null) throw jsonProcessing('Missing id');
    const type = parseType(o);
    const values = o.values;
    if (values === undefined) throw npe(`Cannot invoke "${JSON_NODE}.isObject()" because "valuesNode" is null`);
    if (!isObj(values)) throw jsonProcessing('Values element is not an object');
    for (const [k, v] of Object.entries(values)) {
      if (!/^[+-]?\d+$/.test(k)) throw runtime(`For input string: "${k}"`);
      checkValue(v, type);
      checkId(Number(k), 'resource instance');
    }
    checkId(id, 'resource');
    return { cls: 'LwM2mMultipleResource', id, type };
  }
  if (has(o, 'value')) {
    if (id === null) throw jsonProcessing('Missing id');
    const type = parseType(o);
    checkValue(o.value, type);
    const cls = kind === 'resourceInstance' ? 'LwM2mResourceInstance' : 'LwM2mSingleResource';
    checkId(id, cls === 'LwM2mResourceInstance' ? 'resource instance' : 'resource');
    return { cls, id, type };
  }
  throw jsonProcessing('Invalid node element');
}

/**
 * A value of `type` as Leshan's serializer writes it in read content (docs/leshan-rest-api.md §2.2):
 * INTEGER, UNSIGNED_INTEGER and FLOAT as strings, TIME as ms, OPAQUE as hex.
 */
function sampleValue(type: ResourceType): unknown {
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      return '0';
    case 'FLOAT':
      return '21.5';
    case 'BOOLEAN':
      return false;
    case 'TIME':
      return 1_732_550_000_000;
    case 'OPAQUE':
      return '00';
    case 'OBJLNK':
      return { objectId: 0, objectInstanceId: 0 };
    default:
      return 'x';
  }
}

/** The type the object model gives a resource (STRING for one it does not know). */
const typeOf = (o: number, r: number): ResourceType => {
  const type = resourceModel(o, r)?.type;
  return type === undefined || type === 'NONE' ? 'STRING' : type;
};

const resourceNode = (o: number, r: number): unknown => {
  const type = typeOf(o, r);
  return { id: r, kind: 'singleResource', type, value: sampleValue(type) };
};
const instanceNode = (o: number, id: number): unknown => ({ id, kind: 'instance', resources: [resourceNode(o, 0)] });

/** A plausible node for a read/observe of `path` when the test did not script one, typed as the object model says. */
export function defaultNode(path: LwPath): unknown {
  const [o = 0, i = 0, r = 0, ri = 0] = path;
  switch (path.length) {
    case 4: {
      const type = typeOf(o, r);
      return { id: ri, kind: 'resourceInstance', type, value: sampleValue(type) };
    }
    case 3:
      return resourceNode(o, r);
    case 2:
      return instanceNode(o, i);
    case 1:
      return { id: o, kind: 'obj', instances: [instanceNode(o, 0)] };
    default:
      return { kind: 'root', objects: [] };
  }
}

// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * Write and create bodies (extractLwM2mNode + the WriteRequest / CreateRequest constructor checks, §1.2, §2, §8.6).
 */
import type { DeviceRequest } from './device.js';
import type { HttpAnswer } from './http.js';
import { JavaException, invalidRequest, newPath, npe, parseJavaInt, parseLwPath, pathToString, runtime, type LwPath } from './java.js';
import { deserializeNode, type ParsedNode } from './nodes.js';
import type { ServletContext, ServletRequest } from './servlet.js';
import type { DoubleOp } from './types.js';

const FORMATS = new Set(['TLV', 'JSON', 'TEXT', 'OPAQUE', 'LINK', 'SENML_JSON', 'SENML_CBOR', 'CBOR']);

/** ContentFormat.fromName(param.toUpperCase()): unknown names give null (Leshan's default). */
const formatOf = (params: URLSearchParams): string | null => {
  const f = params.get('format')?.toUpperCase();
  return f !== undefined && FORMATS.has(f) ? f : null;
};

/** Jackson readValue(content, LwM2mNode.class) as extractLwM2mNode wraps it. */
function readJsonNode(body: string): ParsedNode {
  try {
    if (body.trim() === '') throw new JavaException('JsonProcessing', 'No content to map due to end-of-input');
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw new JavaException('JsonProcessing', (e as Error).message);
    }
    return deserializeNode(value);
  } catch (e) {
    if (e instanceof JavaException && e.jkind === 'JsonProcessing') {
      throw invalidRequest(`unable to parse json to tlv:${e.message}`);
    }
    throw e;
  }
}

/** extractLwM2mNode: application/json → node, text/plain → STRING single resource, anything else → 400. */
function extractNode(target: string, r: ServletRequest): ParsedNode {
  const ct = r.contentType;
  const type = ct === undefined ? null : ct.split(';')[0];
  if (type === 'application/json') return readJsonNode(r.body);
  if (type === 'text/plain') {
    const id = parseJavaInt(target.substring(target.lastIndexOf('/') + 1));
    if (id < 0 || id > 65535) throw runtime(`Invalid resource id ${id}, It MUST be an unsigned 16 bits integer.`);
    return { cls: 'LwM2mSingleResource', id, type: 'STRING' };
  }
  throw invalidRequest(`content type ${ct ?? 'null'} not supported`);
}

/** The Leshan request constructors' checks that need a parsed path. */
export function target(r: ServletRequest, raw: string | null): LwPath {
  if (raw === null) throw npe('Cannot invoke "String.length()" because "path" is null');
  const p = newPath(raw);
  if (r.record) r.record.lwm2mPath = pathToString(p);
  return p;
}

const NODE_FOR_DEPTH: Record<number, ParsedNode['cls'][]> = {
  2: ['LwM2mObjectInstance'],
  3: ['LwM2mSingleResource', 'LwM2mMultipleResource'],
  4: ['LwM2mResourceInstance'],
};

/** Write (WriteRequest constructor checks) and create (CreateRequest constructor checks). */
export function writeOrCreate(
  ctx: ServletContext,
  r: ServletRequest,
  op: 'write' | 'create',
  rawTarget: string,
  single: (op: DoubleOp, p: LwPath, extra?: Partial<DeviceRequest>) => Promise<HttpAnswer>,
): Promise<HttpAnswer> {
  // M15 builds `new LwM2mPath(target)` first: a bad path is an InvalidLwM2mPathException → 500.
  if (ctx.mode === 'L15') parseLwPath(rawTarget);
  const format = formatOf(r.params);
  const node = extractNode(rawTarget, r);
  if (op === 'create') {
    if (node.cls !== 'LwM2mObjectInstance') throw runtime('payload must contain an object instance');
    const p = target(r, rawTarget);
    if (p.length === 0) throw invalidRequest('Create request cannot target root path');
    if (p.length !== 1) throw invalidRequest(`Invalid path ${pathToString(p)}: Create request must target an object`);
    if (format !== null && format !== 'TLV' && node.id === null) {
      throw invalidRequest(`Missing object instance id for CREATE request (${pathToString(p)}) using ${format} content format.`);
    }
    return single('create', p, { createId: node.id });
  }
  const p = target(r, rawTarget);
  const ps = pathToString(p);
  if (p.length === 0) throw invalidRequest('Write request cannot target root path');
  const replace = (r.params.get('replace') ?? 'true').toLowerCase() === 'true'; // Boolean.valueOf
  if (!replace && ((p.length === 3 && node.cls === 'LwM2mSingleResource') || p.length === 4)) {
    const what = p.length === 3 ? 'single resource' : 'resource instance';
    throw invalidRequest(`Invalid mode for '${ps}': update is not allowed on ${what}`);
  }
  if (p.length === 1) throw invalidRequest(`write request ${ps} cannot target an object`);
  if (!(NODE_FOR_DEPTH[p.length] ?? []).includes(node.cls)) {
    throw invalidRequest(`path '${ps}' and node type '${node.cls}' do not match`);
  }
  if (format === 'TEXT' || format === 'OPAQUE') {
    if (p.length < 3) {
      throw invalidRequest(`Invalid format for ${ps}: ${format} format must be used only for single resources`);
    }
    if (node.cls === 'LwM2mMultipleResource') {
      throw invalidRequest(`Invalid format for path ${ps}: format must be used only for single resources`);
    }
    if (format === 'OPAQUE' && node.type !== 'OPAQUE') {
      throw invalidRequest(`Invalid format for ${ps}: OPAQUE format must be used only for byte array single resources`);
    }
  }
  return single('write', p, { format: format ?? 'TLV' });
}

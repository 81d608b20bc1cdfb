/*
 * The HTTP request Leshan's demo REST API (ClientServlet) expects for one operation. Pure: no I/O.
 * Routes, bodies and query parameters: docs/leshan-rest-api.md §1.2, §2.3, §3.
 */
import { buildWriteNode } from '../lwm2m/node.js';
import { resourceModel } from '../lwm2m/objectModel.js';
import { formatPath, parsePath, pathLevel, type LwM2mPath } from '../lwm2m/path.js';
import { convertValue, type ResourceType, type TypedValue } from '../lwm2m/value.js';
import { KIND_LEVELS, type RequestKind } from '../lwm2m/requestKinds.js';
import { errorText } from '../log/errorText.js';

/** One request to Leshan; `path` is relative to Leshan's base URL and already percent-encoded. */
export interface LeshanRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** e.g. `/api/clients/dev%201/5/0/1?timeout=5` */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** An operation Leshan would refuse as built (bad path for its kind, bad value, bad endpoint name). */
export class LeshanRequestError extends Error {
  override name = 'LeshanRequestError';
}

/** The request the client is asked to send (an operation from the store fits). */
export interface RequestSpec {
  /** For the log. */
  id: string;
  ep: string;
  kind: RequestKind;
  path: string;
  /** write: the value (JSON) and its LwM2M type. */
  value?: unknown;
  type?: ResourceType;
  /** execute: the argument string. */
  args?: string;
}

/** Content formats Leshan knows by name (docs/leshan-rest-api.md §1.1). */
export const WRITE_FORMATS = ['TLV', 'SENML_CBOR', 'SENML_JSON', 'JSON', 'CBOR', 'TEXT'] as const;
export type WriteFormat = (typeof WRITE_FORMATS)[number];

/**
 * The request for `op`, with `?timeout=` in whole seconds (Leshan parses it with Long.parseLong) and,
 * for a write, the content format chosen (`?format=`; without it Leshan picks TLV).
 * @throws LeshanRequestError when Leshan would refuse the combination of kind, path, value or endpoint name.
 */
export function buildRequest(op: RequestSpec, timeoutS: number, options: { writeFormat?: WriteFormat } = {}): LeshanRequest {
  if (!Number.isSafeInteger(timeoutS) || timeoutS < 1) {
    throw new LeshanRequestError(`timeout must be a whole number of seconds >= 1, got ${String(timeoutS)}`);
  }
  const base = `/api/clients/${encodeEndpoint(op.ep)}`;
  let path: LwM2mPath;
  try {
    path = parsePath(op.path);
  } catch (e) {
    throw new LeshanRequestError(`${op.kind}: invalid path ${JSON.stringify(op.path)}: ${errorText(e)}`);
  }
  const level = pathLevel(path);
  const allowed = KIND_LEVELS[op.kind];
  if (allowed === undefined) throw new LeshanRequestError(`unknown operation kind ${JSON.stringify(op.kind)}`);
  const p = formatPath(path);
  if (!allowed.includes(level)) {
    throw new LeshanRequestError(`${op.kind} cannot target the ${level} path ${p} (Leshan allows: ${allowed.join(', ')})`);
  }
  const timeout = `timeout=${timeoutS}`;
  switch (op.kind) {
    case 'write': {
      const body = asciiJson(writeNode(op, path, p));
      const format = options.writeFormat ? `format=${options.writeFormat}&` : '';
      return {
        method: 'PUT',
        path: `${base}${p}?${format}${timeout}`,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
        body,
      };
    }
    case 'execute': {
      const args = op.args ?? '';
      if (typeof args !== 'string') throw new LeshanRequestError(`execute ${p}: args must be a string`);
      // Leshan reads the arguments only when Content-Length > 0 (req.getContentLength()), so never chunk.
      if (args === '') return { method: 'POST', path: `${base}${p}?${timeout}`, headers: { 'content-length': '0' } };
      return {
        method: 'POST',
        path: `${base}${p}?${timeout}`,
        headers: { 'content-type': 'text/plain; charset=UTF-8', 'content-length': String(Buffer.byteLength(args)) },
        body: args,
      };
    }
    case 'read':
      return { method: 'GET', path: `${base}${p}?${timeout}`, headers: {} };
    case 'observe':
      return { method: 'POST', path: `${base}${p}/observe?${timeout}`, headers: { 'content-length': '0' } };
    case 'cancel-observe':
      // Active cancel: Leshan sends the CoAP cancel and answers with response JSON (passive answers an empty 200).
      return { method: 'DELETE', path: `${base}${p}/observe?active&${timeout}`, headers: {} };
    case 'delete':
      return { method: 'DELETE', path: `${base}${p}?${timeout}`, headers: {} };
  }
}

/**
 * The endpoint name as one path segment. Leshan reads it from the decoded path info and splits on '/', and Jetty
 * refuses an encoded '/' or a '.'/'..' segment, so such names cannot be addressed at all.
 */
export function encodeEndpoint(ep: unknown): string {
  if (typeof ep !== 'string' || ep === '') throw new LeshanRequestError('the endpoint name is empty');
  if (ep.includes('/')) throw new LeshanRequestError(`endpoint ${JSON.stringify(ep)} contains '/', which Leshan's REST API cannot address`);
  if (ep === '.' || ep === '..') throw new LeshanRequestError(`endpoint ${JSON.stringify(ep)} cannot be addressed in a URL path`);
  try {
    return encodeURIComponent(ep);
  } catch {
    throw new LeshanRequestError(`endpoint ${JSON.stringify(ep)} is not valid Unicode (lone surrogate)`);
  }
}

/** The node JSON for a write: a single value, or (at a resource path) an object keyed by resource-instance id. */
function writeNode(op: RequestSpec, path: LwM2mPath, p: string): unknown {
  const type = op.type ?? (path.resourceId === undefined ? undefined : resourceModel(path.objectId, path.resourceId)?.type);
  if (type === undefined) throw new LeshanRequestError(`write ${p}: no type given and none in the object model`);
  if (op.value === undefined) throw new LeshanRequestError(`write ${p}: no value`);
  try {
    const value = pathLevel(path) === 'resource' && isInstanceMap(op.value) ? convertMap(type, op.value) : convertValue(type, op.value);
    return buildWriteNode(path, value);
  } catch (e) {
    throw new LeshanRequestError(`write ${p}: ${errorText(e)}`);
  }
}

/** A plain object whose keys are all decimal ids: a multi-instance value (an OBJLNK `{objectId, …}` is not). */
function isInstanceMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => /^(?:0|[1-9]\d{0,4})$/.test(k));
}

function convertMap(type: ResourceType, values: Record<string, unknown>): Map<number, TypedValue> {
  const map = new Map<number, TypedValue>();
  for (const [k, raw] of Object.entries(values)) {
    try {
      map.set(Number(k), convertValue(type, raw));
    } catch (e) {
      throw new Error(`resource instance ${k}: ${errorText(e)}`, { cause: e });
    }
  }
  return map;
}

/**
 * JSON with every non-ASCII character escaped (\uXXXX): the body then means the same whatever charset Leshan's
 * servlet decodes it with (it reads the stream with the request's, possibly absent, character encoding).
 */
function asciiJson(x: unknown): string {
  return JSON.stringify(x).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * LwM2M response JSON (JacksonResponseSerializer, §4): key order status, valid, success, failure,
 * content | objectLinks | location, errormessage; null fields omitted.
 */
import type { DoubleOp } from './types.js';

const CODE_NAMES = new Map<number, string>([
  [201, 'CREATED'],
  [202, 'DELETED'],
  [204, 'CHANGED'],
  [205, 'CONTENT'],
  [231, 'CONTINUE'],
  [400, 'BAD_REQUEST'],
  [401, 'UNAUTHORIZED'],
  [403, 'FORBIDDEN'],
  [404, 'NOT_FOUND'],
  [405, 'METHOD_NOT_ALLOWED'],
  [406, 'NOT_ACCEPTABLE'],
  [408, 'REQUEST_ENTITY_INCOMPLETE'],
  [412, 'PRECONDITION_FAILED'],
  [413, 'REQUEST_ENTITY_TOO_LARGE'],
  [415, 'UNSUPPORTED_CONTENT_FORMAT'],
  [500, 'INTERNAL_SERVER_ERROR'],
]);

/** ResponseCode.toString() in 2.x: "NAME(code)", "UNKNOWN(nnn)" for codes Leshan does not name. */
export const statusName = (code: number): string => `${CODE_NAMES.get(code) ?? 'UNKNOWN'}(${code})`;

const ERR = [400, 401, 404, 405];
const codes = (...c: number[]): ReadonlySet<number> => new Set([...c, ...ERR, 500]);
const READ = codes(205, 406);
const COMPOSITE_READ = codes(205, 406, 415);

/** isValid() per response class (§4). */
const VALID: Partial<Record<DoubleOp, ReadonlySet<number>>> = {
  write: codes(204, 408, 413, 415),
  execute: codes(204),
  writeAttributes: codes(204),
  read: READ,
  observe: READ,
  cancelObserve: READ,
  create: codes(201, 415),
  delete: codes(202),
  discover: codes(205),
  writeComposite: codes(204, 406),
  readComposite: COMPOSITE_READ,
  observeComposite: COMPOSITE_READ,
  cancelObserveComposite: COMPOSITE_READ,
};

/** The code a device answers with on success, per operation. */
export function successCode(op: DoubleOp): number {
  switch (op) {
    case 'create':
      return 201;
    case 'delete':
      return 202;
    case 'write':
    case 'execute':
    case 'writeAttributes':
    case 'writeComposite':
      return 204;
    default:
      return 205;
  }
}

/** isSuccess(): Observe also accepts CHANGED for backward compatibility. */
export function isSuccess(op: DoubleOp, code: number): boolean {
  if ((op === 'observe' || op === 'observeComposite') && code === 204) return true;
  return code === successCode(op);
}

export interface ResponseExtras {
  content?: unknown;
  objectLinks?: unknown;
  location?: string | null;
  errormessage?: string;
}

/** The response object, in Jackson's key order. */
export function responseObject(op: DoubleOp, code: number, x: ResponseExtras = {}): Record<string, unknown> {
  const success = isSuccess(op, code);
  const o: Record<string, unknown> = {
    status: statusName(code),
    valid: VALID[op]?.has(code) ?? false,
    success,
    failure: !success,
  };
  if (x.content !== undefined && x.content !== null) o.content = x.content;
  if (x.objectLinks !== undefined && x.objectLinks !== null) o.objectLinks = x.objectLinks;
  if (x.location !== undefined && x.location !== null) o.location = x.location;
  if (!success && x.errormessage) o.errormessage = x.errormessage;
  return o;
}

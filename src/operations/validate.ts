/**
 * An operator's request to queue an operation, checked against LwM2M: the kind, the path (its depth must
 * suit the kind), the value against its type (taken from the object model when left out), and the
 * object model's operations (no write to a read-only resource, no execute of a non-executable one).
 * Pure: no I/O. Every problem is an FieldError naming the field.
 */
import { z } from 'zod';
import { FieldError } from '../lwm2m/fieldError.js';
import { KIND_LEVELS } from '../lwm2m/requestKinds.js';
import { endpointAddressProblem } from '../lwm2m/endpointName.js';
import { resourceModel } from '../lwm2m/objectModel.js';
import { formatPath, parsePath, pathLevel, PathError, type LwM2mPath, type PathLevel } from '../lwm2m/path.js';
import { convertValue, parseResourceType, toLeshanValue, ValueError, type ResourceType } from '../lwm2m/value.js';
import { OPERATION_KINDS, type CreateOperationInput, type OperationKind } from './operation.js';

const bodySchema = z.strictObject({
  kind: z.enum(OPERATION_KINDS as [OperationKind, ...OperationKind[]]),
  path: z.string().max(64),
  value: z.unknown().optional(),
  type: z.string().optional(),
  args: z.string().max(1024).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  ttlSeconds: z
    .int()
    .positive()
    .max(366 * 24 * 3600)
    .optional(),
});

/** Execute arguments as LwM2M defines them: `0='v1',1` (digits, optionally ='text' without quotes inside). */
const EXECUTE_ARGS = /^(\d='[^']*'|\d)(,(\d='[^']*'|\d))*$/;

export const MAX_IDEMPOTENCY_KEY = 200;

/**
 * Validates `POST /api/endpoints/{ep}/operations`. `now` fixes `ttlSeconds` to an absolute `expiresAt`.
 * @throws FieldError naming the field at fault.
 */
export function validateCreate(epParam: string, body: unknown, idempotencyKey: string | undefined, now: number): CreateOperationInput {
  const epProblem = endpointAddressProblem(epParam);
  if (epProblem !== undefined) throw new FieldError('ep', epProblem);
  const ep = epParam;
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys[0]! : issue.path.join('.') || '(body)';
    throw new FieldError(field, issue.code === 'unrecognized_keys' ? `unknown field "${field}"` : issue.message);
  }
  const input = parsed.data;
  let path: LwM2mPath;
  try {
    path = parsePath(input.path);
  } catch (err) {
    throw new FieldError('path', (err as PathError).message);
  }
  const level = pathLevel(path);
  if (!KIND_LEVELS[input.kind].includes(level)) {
    throw new FieldError(
      'path',
      `${input.kind} takes a ${KIND_LEVELS[input.kind].join(' or ')} path, not the ${level} path ${formatPath(path)}`,
    );
  }
  const out: CreateOperationInput = { ep, kind: input.kind, path: formatPath(path) };
  const model = path.resourceId === undefined ? undefined : resourceModel(path.objectId, path.resourceId);

  if (input.kind === 'write') {
    if (model && !model.operations.includes('W')) throw new FieldError('path', `${formatPath(path)} (${model.name}) is not writable`);
    if (input.value === undefined) throw new FieldError('value', 'a write needs a value');
    const type = writeType(input.type, model?.type, path);
    out.value = checkValue(type, input.value, level, model?.multiple);
    out.type = type;
  } else {
    if (input.value !== undefined) throw new FieldError('value', `${input.kind} takes no value`);
    if (input.type !== undefined) throw new FieldError('type', `${input.kind} takes no type`);
  }
  if (input.kind === 'execute') {
    if (model && model.operations !== 'E') throw new FieldError('path', `${formatPath(path)} (${model.name}) is not executable`);
    if (input.args !== undefined && input.args !== '') {
      if (!EXECUTE_ARGS.test(input.args)) throw new FieldError('args', `"${input.args}" is not an LwM2M argument list such as 0='v1',1`);
      out.args = input.args;
    }
  } else if (input.args !== undefined) {
    throw new FieldError('args', 'only execute takes args');
  }

  if (input.expiresAt !== undefined && input.ttlSeconds !== undefined)
    throw new FieldError('ttlSeconds', 'give expiresAt or ttlSeconds, not both');
  const expires =
    input.ttlSeconds !== undefined
      ? now + input.ttlSeconds * 1000
      : input.expiresAt !== undefined
        ? Date.parse(input.expiresAt)
        : undefined;
  if (expires !== undefined) {
    if (expires <= now) throw new FieldError('expiresAt', 'expiresAt is in the past');
    out.expiresAt = new Date(expires).toISOString();
  }
  if (idempotencyKey !== undefined) {
    if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw new FieldError('Idempotency-Key', `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY} characters`);
    }
    out.idempotencyKey = idempotencyKey;
  }
  return out;
}

function writeType(given: string | undefined, modelType: ResourceType | undefined, path: LwM2mPath): ResourceType {
  if (given === undefined) {
    if (modelType === undefined) throw new FieldError('type', `type is needed: ${formatPath(path)} is not in the object model`);
    return modelType;
  }
  const type = parseResourceType(given);
  if (type === undefined) throw new FieldError('type', `unknown type "${given}"`);
  if (type === 'NONE') throw new FieldError('type', 'type NONE carries no value');
  if (modelType !== undefined && modelType !== 'NONE' && type !== modelType) {
    throw new FieldError('type', `${formatPath(path)} is ${modelType} in the object model, not ${type}`);
  }
  return type;
}

/**
 * A multi-instance resource is written whole as `{"<ri>": value, ...}`; anything else takes one value.
 * Returns the value to store: as given, except that an object link keeps only its two ids (nothing
 * else the client sent along is stored).
 */
function checkValue(type: ResourceType, value: unknown, level: PathLevel, multiple: boolean | undefined): unknown {
  const isMap = typeof value === 'object' && value !== null && !Array.isArray(value) && !(type === 'OBJLNK' && 'objectId' in value);
  if (isMap && level === 'resource' && multiple !== false) {
    const entries = Object.entries(value);
    if (entries.length === 0) throw new FieldError('value', 'a multi-instance write needs at least one resource instance');
    const out: Record<string, unknown> = {};
    for (const [ri, v] of entries) {
      if (!/^\d{1,5}$/.test(ri) || Number(ri) > 65535) throw new FieldError(`value.${ri}`, `"${ri}" is not a resource instance id`);
      out[ri] = convert(type, v, `value.${ri}`);
    }
    return out;
  }
  if (isMap && level === 'resource') throw new FieldError('value', 'this resource is single-instance: give one value');
  return convert(type, value, 'value');
}

function convert(type: ResourceType, value: unknown, field: string): unknown {
  let typed;
  try {
    typed = convertValue(type, value);
  } catch (err) {
    if (err instanceof ValueError) throw new FieldError(field, err.message);
    throw err;
  }
  return typed.type === 'OBJLNK' && typeof value === 'object' ? toLeshanValue(typed) : value;
}

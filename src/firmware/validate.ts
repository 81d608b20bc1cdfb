/**
 * An operator's request to start a firmware update, checked. Pure: no I/O. Every problem is a
 * FieldError naming the field.
 */
import { z } from 'zod';
import { FieldError } from '../lwm2m/fieldError.js';
import { endpointAddressProblem } from '../lwm2m/endpointName.js';
import { MAX_IDEMPOTENCY_KEY } from '../operations/validate.js';

/** The schemes a Firmware Update object downloads from (LwM2M 1.1 E.6, resource 8 Protocol Support). */
export const PACKAGE_URI_SCHEMES = ['coap:', 'coaps:', 'http:', 'https:', 'coap+tcp:', 'coaps+tcp:'];
/** 5/0/1 is a string of at most 255 bytes in LwM2M 1.0. */
export const MAX_URI_LENGTH = 255;

const bodySchema = z.strictObject({
  uri: z.string().min(1).max(MAX_URI_LENGTH),
  version: z.string().min(1).max(255),
});

/** The body as `schema` takes it. @throws FieldError naming the first field at fault. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0]! : issue.path.join('.') || '(body)';
  throw new FieldError(field, issue.code === 'unrecognized_keys' ? `unknown field "${field}"` : issue.message);
}

export interface FirmwareRequest {
  uri: string;
  version: string;
}

/** The body's fields, checked (`body` as JSON gave it). */
export function validateFirmwareBody(body: unknown): FirmwareRequest {
  const { uri, version } = parse(bodySchema, body);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new FieldError('uri', `"${uri}" is not an absolute URI`);
  }
  if (!PACKAGE_URI_SCHEMES.includes(url.protocol)) {
    throw new FieldError(
      'uri',
      `the device downloads over ${PACKAGE_URI_SCHEMES.map((s) => s.slice(0, -1)).join(', ')}, not ${url.protocol}`,
    );
  }
  return { uri, version };
}

/** `POST /api/endpoints/{ep}/firmware`: the endpoint, the body and the Idempotency-Key header. */
export function validateFirmwareStart(
  ep: string,
  body: unknown,
  idempotencyKey: string | undefined,
): FirmwareRequest & { ep: string; idempotencyKey?: string } {
  const problem = endpointAddressProblem(ep);
  if (problem !== undefined) throw new FieldError('ep', problem);
  const request = validateFirmwareBody(body);
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)) {
    throw new FieldError('Idempotency-Key', `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY} characters`);
  }
  return { ep, ...request, ...(idempotencyKey !== undefined && { idempotencyKey }) };
}

export const MAX_CAMPAIGN_DEVICES = 100_000;

const campaignSchema = z.strictObject({
  uri: z.string().min(1).max(MAX_URI_LENGTH),
  version: z.string().min(1).max(255),
  endpoints: z.array(z.string()).min(1).max(MAX_CAMPAIGN_DEVICES).optional(),
  match: z.string().min(1).max(255).optional(),
  maxConcurrent: z.int().min(1).max(10_000).optional(),
});

export interface CampaignRequest extends FirmwareRequest {
  endpoints?: string[];
  /** `prefix*`: every endpoint whose name starts with the prefix (`*`: all). */
  match?: string;
  maxConcurrent: number;
}

/** `POST /api/firmware/campaigns`: a list of endpoints or a `prefix*`, and how many at once (10 by default). */
export function validateCampaign(body: unknown): CampaignRequest {
  const data = parse(campaignSchema, body);
  const { endpoints, match, maxConcurrent = 10 } = data;
  const request = validateFirmwareBody({ uri: data.uri, version: data.version });
  if ((endpoints === undefined) === (match === undefined)) throw new FieldError('endpoints', 'give endpoints or match, one of the two');
  if (match !== undefined && !match.endsWith('*')) throw new FieldError('match', 'match is a prefix ending in *, e.g. "meter-*"');
  endpoints?.forEach((ep, i) => {
    const problem = endpointAddressProblem(ep);
    if (problem !== undefined) throw new FieldError(`endpoints.${i}`, problem);
  });
  return { ...request, maxConcurrent, ...(endpoints && { endpoints }), ...(match !== undefined && { match }) };
}

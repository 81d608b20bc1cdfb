/*
 * What one answer of Leshan's REST API means for the operation that caused it. Pure: no I/O.
 * Leshan's side: docs/leshan-rest-api.md §1.3 (HTTP codes and texts), §4 (response JSON),
 * §5.2 (sleeping clients: 400 in M15/1.x, a delayed 200 in master).
 */
import { jsonNestingExceeds, MAX_LESHAN_JSON_DEPTH } from './jsonDepth.js';

/** What Leshan (or the device) answered to one request. */
export interface DeviceResult {
  /** Leshan's LwM2M status, e.g. "CHANGED(204)" or "NOT_FOUND(404)". */
  status?: string;
  /** The LwM2M response code, e.g. 204 or 404. */
  code?: number;
  /** read/observe: the content node Leshan returned. */
  content?: unknown;
  /** The device's diagnostic payload, when it sent one. */
  errormessage?: string;
}

/** The outcome of one attempt to send an operation through Leshan. */
export type AttemptResult =
  /** The device answered with a success code. */
  | { kind: 'confirmed'; result: DeviceResult }
  /** The device answered with an error code (`code`, e.g. 404): retrying will not help. */
  | { kind: 'deviceError'; result: DeviceResult; code: number }
  /** Leshan answered but the request did not reach the device, or its fate is unknown. */
  | {
      kind: 'notDelivered';
      /** unknownOutcome: the connection broke after a non-idempotent request (execute) was sent. */
      reason: 'timeout' | 'sleeping' | 'notRegistered' | 'invalidRequest' | 'serverError' | 'unknownOutcome' | 'other';
      httpStatus: number;
      message: string;
    }
  /** Leshan (master, ≥ M17) queued it for a sleeping device; the result comes later as REQUEST_RESPONSE. */
  | { kind: 'delayed'; requestId: string }
  /** No answer from Leshan at all: nothing reached the device as far as we know. */
  | { kind: 'unreachable'; message: string };

/** Leshan 1.x writes bare names for the codes it knows (ResponseCode.toString); 2.x writes `NAME(code)`. */
const CODE_BY_NAME: ReadonlyMap<string, number> = new Map([
  ['CREATED', 201],
  ['DELETED', 202],
  ['CHANGED', 204],
  ['CONTENT', 205],
  ['BAD_REQUEST', 400],
  ['UNAUTHORIZED', 401],
  ['FORBIDDEN', 403],
  ['NOT_FOUND', 404],
  ['METHOD_NOT_ALLOWED', 405],
  ['NOT_ACCEPTABLE', 406],
  ['REQUEST_ENTITY_INCOMPLETE', 408],
  ['PRECONDITION_FAILED', 412],
  ['REQUEST_ENTITY_TOO_LARGE', 413],
  ['UNSUPPORTED_CONTENT_FORMAT', 415],
  ['INTERNAL_SERVER_ERROR', 500],
]);

const STATUS_RE = /^([A-Z_]+)(?:\((\d+)\))?$/;
/** How much of Leshan's text a message keeps. */
const MAX_TEXT = 200;

/** The LwM2M code in a Leshan status string (`CHANGED(204)`, `NOT_FOUND`, `UNKNOWN(499)`), or undefined. */
export function statusCode(status: string): number | undefined {
  const m = STATUS_RE.exec(status);
  if (!m) return undefined;
  return m[2] !== undefined ? Number(m[2]) : CODE_BY_NAME.get(m[1] ?? '');
}

/**
 * Classifies one HTTP answer of Leshan's ClientServlet.
 * @param timeoutS the `?timeout=` the request carried, only used to word the timeout message
 */
export function classifyResponse(httpStatus: number, contentType: string | undefined, bodyText: string, timeoutS?: number): AttemptResult {
  if (httpStatus === 200) return classifyJson(bodyText);
  return classifyError(httpStatus, contentType, bodyText, timeoutS);
}

/**
 * Leshan's answer to a cancel-observe. An empty 200 is the passive cancel (§1.2): Leshan forgot the
 * observation without telling the device, which is what the operator asked for (a Leshan that knows
 * only the passive cancel, such as 2.0.0-M4, answers `?active` that way too); the device's next
 * notification is then refused. Anything else is classified as for every request.
 */
export function classifyCancelObserve(
  httpStatus: number,
  contentType: string | undefined,
  bodyText: string,
  timeoutS?: number,
): AttemptResult {
  if (httpStatus === 200 && bodyText.trim() === '')
    return { kind: 'confirmed', result: { status: 'passive cancel: Leshan forgot the observation' } };
  return classifyResponse(httpStatus, contentType, bodyText, timeoutS);
}

function classifyError(httpStatus: number, contentType: string | undefined, bodyText: string, timeoutS?: number): AttemptResult {
  const text = leshanText(contentType, bodyText);
  const notDelivered = (reason: Extract<AttemptResult, { kind: 'notDelivered' }>['reason'], message: string): AttemptResult => ({
    kind: 'notDelivered',
    reason,
    httpStatus,
    message,
  });
  if (httpStatus === 504 && text.startsWith('Request timeout')) {
    const within = timeoutS === undefined ? 'in time' : `within ${timeoutS} s`;
    return notDelivered('timeout', `Leshan: device did not answer ${within} (504 Request timeout)`);
  }
  if (httpStatus === 400) {
    // M15 and 1.x: "Invalid request: The destination client is sleeping, …" (1.x: no space after the colon).
    if (/^Invalid request: ?The destination client is sleeping/i.test(text)) {
      return notDelivered('sleeping', 'Leshan: device is sleeping, request not sent (400)');
    }
    // "No registered client with id 'x'" (master, M15) or "no registered client…" (M15 on some routes).
    if (/^no registered client/i.test(text)) {
      return notDelivered('notRegistered', 'Leshan: endpoint is not registered (400)');
    }
    // "Invalid request: …" from handleException, "Invalid path" (master text, M15 Jetty page), Jetty's URI checks.
    if (/^Invalid (request|path|attributes)/.test(text) || isHtml(contentType, bodyText)) {
      return notDelivered('invalidRequest', `Leshan refused the request (400 ${text})`);
    }
  }
  // Active cancel of an observation Leshan does not hold: there is nothing to cancel, and asking again cannot change that.
  if (httpStatus === 404 && /^no observation for path/i.test(text)) {
    return notDelivered('invalidRequest', `Leshan holds no such observation (404 ${text})`);
  }
  // "Request rejected: …" (CoAP RST), "Request cancelled: …", "Invalid Response: …", "Unexpected exception: …".
  if (httpStatus === 500) return notDelivered('serverError', `Leshan: ${text || 'internal error'} (500)`);
  return notDelivered('other', `Leshan: unexpected answer (${httpStatus}${text ? ` ${text}` : ''})`);
}

/** A 200: a device response (§4), a delayed request (§5.2), or something this client does not understand. */
function classifyJson(bodyText: string): AttemptResult {
  // refused before parsing: storing or serialising such a value would recurse past the stack
  if (jsonNestingExceeds(bodyText, MAX_LESHAN_JSON_DEPTH)) {
    return {
      kind: 'notDelivered',
      reason: 'other',
      httpStatus: 200,
      message: `Leshan: unexpected answer (200, JSON nested deeper than ${MAX_LESHAN_JSON_DEPTH} levels; not kept)`,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return unexpected200('not JSON', bodyText);
  }
  return classifyBody(body, bodyText);
}

/**
 * A device response Leshan gave as parsed JSON (§4): the `response` of a REQUEST_RESPONSE event, whose
 * data the event parser has already bounded in depth.
 */
export function classifyDeviceResponse(response: unknown): AttemptResult {
  let text: string;
  try {
    text = JSON.stringify(response) ?? '';
  } catch {
    text = '(not serialisable)';
  }
  return classifyBody(response, text);
}

function classifyBody(body: unknown, bodyText: string): AttemptResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return unexpected200('not a response object', bodyText);
  const b = body as Record<string, unknown>;
  if (b.delayed === true) {
    if (typeof b.requestId === 'string' && b.requestId !== '') return { kind: 'delayed', requestId: b.requestId };
    return unexpected200('delayed without a requestId', bodyText);
  }
  if (typeof b.status !== 'string' || typeof b.success !== 'boolean') return unexpected200('no status and success', bodyText);
  const code = statusCode(b.status);
  if (code === undefined) return unexpected200(`unknown status ${JSON.stringify(b.status)}`, bodyText);
  const result: DeviceResult = { status: b.status, code };
  if (b.content !== undefined && b.content !== null) result.content = b.content;
  if (typeof b.errormessage === 'string' && b.errormessage !== '') result.errormessage = b.errormessage;
  return b.success ? { kind: 'confirmed', result } : { kind: 'deviceError', result, code };
}

function unexpected200(why: string, bodyText: string): AttemptResult {
  return {
    kind: 'notDelivered',
    reason: 'other',
    httpStatus: 200,
    message: `Leshan: unexpected answer (200, ${why}: ${clip(oneLine(bodyText)) || 'empty body'})`,
  };
}

function isHtml(contentType: string | undefined, body: string): boolean {
  return /^text\/html\b/i.test(contentType ?? '') || /^\s*<html/i.test(body);
}

/** Leshan's text on one line; for an HTML error page, its title without the status (`<title>Error 400 Invalid path</title>`). */
function leshanText(contentType: string | undefined, body: string): string {
  if (isHtml(contentType, body)) {
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
    if (title !== undefined) return clip(unescapeHtml(oneLine(title).replace(/^(?:Error\s+)?\d{3}\s*/i, '')));
  }
  return clip(oneLine(body));
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function clip(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s;
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/*
 * LwM2M paths: /object[/instance[/resource[/resourceInstance]]], each id a 16-bit unsigned integer.
 * Hand-written parser: it runs for every posted value and should neither allocate nor throw on good input.
 */

/** The largest object, instance, resource or resource-instance id (65535, MAX_ID in the LwM2M spec). */
export const MAX_ID = 65535;

/** A parsed LwM2M path; deeper ids are only present when the shallower ones are. */
export interface LwM2mPath {
  objectId: number;
  instanceId?: number;
  resourceId?: number;
  resourceInstanceId?: number;
}

/** What a path points at. */
export type PathLevel = 'object' | 'instance' | 'resource' | 'resourceInstance';

/** A malformed path or id; the message says which segment and why. */
export class PathError extends Error {
  override name = 'PathError';
}

/** Whether `x` is an integer id in 0..MAX_ID. */
export function isValidId(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_ID;
}

/**
 * Parses `/5/0/1` or `5/0/1` (1 to 4 decimal segments, each 0..65535, a trailing slash tolerated).
 * @throws PathError when the text is not such a path.
 */
export function parsePath(text: string): LwM2mPath {
  const result = scan(text);
  if (typeof result === 'string') throw new PathError(result);
  return result;
}

/** `/5/0/1` for `{objectId: 5, instanceId: 0, resourceId: 1}`; stops at the first missing id. */
export function formatPath(p: LwM2mPath): string {
  let s = `/${p.objectId}`;
  if (p.instanceId === undefined) return s;
  s += `/${p.instanceId}`;
  if (p.resourceId === undefined) return s;
  s += `/${p.resourceId}`;
  if (p.resourceInstanceId === undefined) return s;
  return `${s}/${p.resourceInstanceId}`;
}

/** The level of the deepest id present in `p`. */
export function pathLevel(p: LwM2mPath): PathLevel {
  if (p.instanceId === undefined) return 'object';
  if (p.resourceId === undefined) return 'instance';
  if (p.resourceInstanceId === undefined) return 'resource';
  return 'resourceInstance';
}

/** The path, or an error message. */
function scan(text: unknown): LwM2mPath | string {
  if (typeof text !== 'string') return `path must be a string, got ${typeof text}`;
  let end = text.length;
  if (end > 1 && text.charCodeAt(end - 1) === 0x2f /* / */) end--; // tolerate one trailing slash
  let i = end > 0 && text.charCodeAt(0) === 0x2f ? 1 : 0;
  if (i >= end) return 'path is empty';
  let objectId = -1;
  let instanceId = -1;
  let resourceId = -1;
  let segment = 0;
  while (i <= end) {
    const start = i;
    let n = 0;
    while (i < end && text.charCodeAt(i) !== 0x2f) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return `segment ${segment + 1} ${quote(segmentText(text, start, end))} is not a number`;
      if (n <= MAX_ID) n = n * 10 + (c - 0x30);
      i++;
    }
    if (i === start) return `segment ${segment + 1} is empty`;
    if (n > MAX_ID) return `segment ${segment + 1}: id ${clip(text.slice(start, i))} out of range 0-${MAX_ID}`;
    i++; // past the slash, or past the end
    switch (segment++) {
      case 0:
        objectId = n;
        break;
      case 1:
        instanceId = n;
        break;
      case 2:
        resourceId = n;
        break;
      default:
        if (i <= end) return `path ${quote(text)} has more than 4 segments`;
        return { objectId, instanceId, resourceId, resourceInstanceId: n };
    }
  }
  if (segment === 1) return { objectId };
  if (segment === 2) return { objectId, instanceId };
  return { objectId, instanceId, resourceId };
}

function segmentText(text: string, start: number, end: number): string {
  const slash = text.indexOf('/', start);
  return text.slice(start, slash < 0 || slash > end ? end : slash);
}

function quote(s: string): string {
  return JSON.stringify(clip(s));
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

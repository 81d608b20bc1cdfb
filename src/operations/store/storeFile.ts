import { OPERATION_ID, OPERATION_STATUSES, type Operation } from '../operation.js';
import type { Codec } from './durableFile.js';

/**
 * The JSON document in `operations.json` (the snapshot), as lowdb holds it. `operations` is in ascending id
 * order; `seq` is the last journal record it contains (records up to it are skipped at replay).
 */
export interface StoreData {
  version: 1;
  /** The next id to assign: persisted so that ids are never reused, even after pruning. */
  nextId: number;
  seq: number;
  operations: readonly Operation[];
}

/** Operations encoded per chunk handed to the file (the event loop runs between chunks). */
export const CHUNK_OPS = 512;
const HEADER = /^\{"version":1,"nextId":([0-9]{1,15})(?:,"seq":([0-9]{1,15}))?,"operations":\[$/;
const FOOTER = Buffer.from('\n]}\n');
const COMMA = 0x2c;
const NL = 0x0a;

/**
 * Encodes the snapshot as one operation per line:
 * `{"version":1,"nextId":N,"seq":S,"operations":[\n{op 1},\n{op 2}\n]}\n`, in chunks of CHUNK_OPS
 * operations, so that the file is written while it is encoded (no 30 MB string or buffer at 100 000
 * operations). The operations are frozen: the array handed to `encode` may be a copy of references taken
 * at one instant, encoded later.
 */
export class StoreCodec implements Codec<StoreData> {
  *encode(data: StoreData): Iterable<Buffer> {
    const ops = data.operations;
    yield Buffer.from(`{"version":1,"nextId":${data.nextId},"seq":${data.seq},"operations":[\n`);
    for (let start = 0; start < ops.length; start += CHUNK_OPS) {
      const lines: string[] = [];
      for (let i = start; i < Math.min(start + CHUNK_OPS, ops.length); i++) lines.push(JSON.stringify(ops[i]));
      yield Buffer.from((start === 0 ? '' : ',\n') + lines.join(',\n'));
    }
    yield FOOTER;
  }

  /**
   * Parses the document; throws when it is not JSON or not the store's shape (operations are checked
   * later, one by one). A file in the layout `encode` writes is parsed line by line.
   */
  parse(bytes: Buffer): StoreData {
    const fast = parseLines(bytes);
    if (fast) return fast;
    const doc: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    const { nextId, seq, operations } = doc as Record<string, unknown>;
    if (!Array.isArray(operations)) throw new Error('"operations" is not an array');
    if (nextId !== undefined && !Number.isSafeInteger(nextId)) throw new Error('"nextId" is not an integer');
    if (seq !== undefined && !Number.isSafeInteger(seq)) throw new Error('"seq" is not an integer');
    // Entries are unknown until checkOperation() has looked at them; the store does that right after read().
    return {
      version: 1,
      nextId: (nextId as number | undefined) ?? 1,
      seq: (seq as number | undefined) ?? 0,
      operations: operations as Operation[],
    };
  }
}

/**
 * undefined when the bytes are not exactly in encode's layout (the caller then parses them as a whole).
 * Decodes one line at a time from the bytes: no string of the whole file (31 MB at 100 000 operations) is
 * ever made, which keeps the start-up peak (and so the RSS the daemon keeps) down.
 */
function parseLines(bytes: Buffer): StoreData | undefined {
  if (bytes.length < FOOTER.length || !bytes.subarray(bytes.length - FOOTER.length).equals(FOOTER)) return undefined;
  const headerEnd = bytes.indexOf(NL);
  const bodyEnd = bytes.length - FOOTER.length;
  const header = headerEnd >= 0 && headerEnd <= bodyEnd ? HEADER.exec(bytes.toString('latin1', 0, headerEnd)) : null;
  if (!header) return undefined;
  const ops: Operation[] = [];
  for (let start = headerEnd + 1; start < bodyEnd;) {
    const end = bytes.indexOf(NL, start); // never -1: the footer starts with a newline
    const last = end >= bodyEnd;
    if (end > bodyEnd) return undefined;
    const lineEnd = last ? end : end - 1;
    if (!last && bytes[lineEnd] !== COMMA) return undefined;
    try {
      ops.push(JSON.parse(bytes.toString('utf8', start, lineEnd)) as Operation);
    } catch {
      return undefined;
    }
    start = end + 1;
  }
  return { version: 1, nextId: Number(header[1]), seq: Number(header[2] ?? 0), operations: ops };
}

const STATUSES: ReadonlySet<string> = new Set(OPERATION_STATUSES);
const isString = (v: unknown): v is string => typeof v === 'string';

/** The operation read from a file, frozen, or the reason it cannot be one. */
export function checkOperation(raw: unknown): Operation | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const op = raw as Record<string, unknown>;
  if (!isString(op.id) || !OPERATION_ID.test(op.id)) return `bad id ${JSON.stringify(op.id)}`;
  if (!isString(op.ep) || op.ep === '') return 'bad ep';
  if (!isString(op.kind) || !isString(op.path)) return 'bad kind or path';
  if (!isString(op.status) || !STATUSES.has(op.status)) return `bad status ${JSON.stringify(op.status)}`;
  if (!Number.isSafeInteger(op.attempts) || (op.attempts as number) < 0) return 'bad attempts';
  if (!isString(op.createdAt) || !isString(op.updatedAt)) return 'bad createdAt or updatedAt';
  shareStrings(op);
  return deepFreeze(raw as Operation);
}

/** Distinct short strings kept for sharing (endpoint names, kinds, paths, types, statuses); bounded. */
const shared = new Map<string, string>();
const SHARED_MAX = 200_000;
const SHARED_FIELDS = ['ep', 'kind', 'path', 'type', 'status'] as const;

/** One instance of `s` for every operation that has it (JSON.parse makes a new string each time). */
function share(s: string): string {
  const known = shared.get(s);
  if (known !== undefined) return known;
  if (shared.size < SHARED_MAX && s.length <= 256) shared.set(s, s);
  return s;
}

/**
 * Read operations share their repeated strings: endpoint names (many operations each), kinds, paths,
 * statuses, and a timestamp equal to another of the same operation. 100 000 operations read from a file
 * otherwise hold ~600 000 separate strings (measured in bench/memory.bench.ts).
 */
function shareStrings(op: Record<string, unknown>): void {
  for (const key of SHARED_FIELDS) if (isString(op[key])) op[key] = share(op[key]);
  if (op.updatedAt === op.createdAt) op.updatedAt = op.createdAt;
  if (op.lastAttemptAt === op.updatedAt) op.lastAttemptAt = op.updatedAt;
  const result = op.result as Record<string, unknown> | undefined;
  if (result && isString(result.status)) result.status = share(result.status);
}

/** A JSON-only copy of a value (what goes to the file is what stays in memory), frozen throughout. */
export function frozenJson<T>(value: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(value)) as T);
}

/** Freezes a JSON value and everything in it, so that a cached encoding can never go stale. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

import { OPERATION_ID, OPERATION_STATUSES, type Operation } from '../operation.js';
import type { Codec } from './durableFile.js';

/** A record kept beside operations (a firmware update or campaign): a JSON object with a decimal `id`. */
export interface Entity {
  readonly id: string;
}

/** The snapshot's `firmware` member: next ids (never reused) and every update and campaign, ascending ids. */
export interface EntitySection {
  nextId: number;
  nextCampaignId: number;
  updates: readonly Entity[];
  campaigns: readonly Entity[];
}

export const EMPTY_SECTION: EntitySection = Object.freeze({ nextId: 1, nextCampaignId: 1, updates: [], campaigns: [] });

/**
 * The JSON document in `operations.json` (the snapshot), as lowdb holds it. `operations` is in ascending id
 * order; `seq` is the last journal record it contains (records up to it are skipped at replay). `firmware`
 * holds the firmware updates and campaigns (a snapshot written before them has none: read as empty).
 */
export interface StoreData {
  version: 1;
  /** The next id to assign: persisted so that ids are never reused, even after pruning. */
  nextId: number;
  seq: number;
  operations: readonly Operation[];
  firmware: EntitySection;
}

/** Operations encoded per chunk handed to the file (the event loop runs between chunks). */
export const CHUNK_OPS = 512;
const HEADER = /^\{"version":1,"nextId":([0-9]{1,15})(?:,"seq":([0-9]{1,15}))?,"operations":\[$/;
const FIRMWARE_OPEN = /^\],"firmware":\{"nextId":([0-9]{1,15}),"nextCampaignId":([0-9]{1,15}),"updates":\[$/;
const CAMPAIGNS_OPEN = '],"campaigns":[';
const OLD_FOOTER = Buffer.from('\n]}\n');
const END = ']}}';
const NL = 0x0a;

/** One JSON value per line, `,\n` between them (the file is written while it is encoded). */
function* lines(items: readonly unknown[]): Iterable<Buffer> {
  for (let start = 0; start < items.length; start += CHUNK_OPS) {
    const out: string[] = [];
    for (let i = start; i < Math.min(start + CHUNK_OPS, items.length); i++) out.push(JSON.stringify(items[i]));
    yield Buffer.from((start === 0 ? '' : ',\n') + out.join(',\n'));
  }
}

/**
 * Encodes the snapshot as one operation (then one firmware update, one campaign) per line:
 * `{"version":1,"nextId":N,"seq":S,"operations":[\n{op 1},\n{op 2}\n],"firmware":{"nextId":A,
 * "nextCampaignId":B,"updates":[\n{update}\n],"campaigns":[\n{campaign}\n]}}\n` (the firmware member's
 * opening on one line), in chunks of CHUNK_OPS entries, so that the file is written while it is encoded (no
 * 30 MB string or buffer at 100 000 operations). Everything is frozen: the arrays handed to `encode` may be
 * copies of references taken at one instant, encoded later.
 */
export class StoreCodec implements Codec<StoreData> {
  *encode(data: StoreData): Iterable<Buffer> {
    const fw = data.firmware;
    yield Buffer.from(`{"version":1,"nextId":${data.nextId},"seq":${data.seq},"operations":[\n`);
    yield* lines(data.operations);
    yield Buffer.from(`\n],"firmware":{"nextId":${fw.nextId},"nextCampaignId":${fw.nextCampaignId},"updates":[\n`);
    yield* lines(fw.updates);
    yield Buffer.from(`\n${CAMPAIGNS_OPEN}\n`);
    yield* lines(fw.campaigns);
    yield Buffer.from(`\n${END}\n`);
  }

  /**
   * Parses the document; throws when it is not JSON or not the store's shape (operations and firmware
   * entries are checked later, one by one). A file in the layout `encode` writes (or the one before the
   * firmware member) is parsed line by line.
   */
  parse(bytes: Buffer): StoreData {
    const fast = parseLines(bytes);
    if (fast) return fast;
    const doc: unknown = JSON.parse(bytes.toString('utf8'));
    if (!isObject(doc)) throw new Error('not a JSON object');
    const { nextId, seq, operations, firmware } = doc;
    if (!Array.isArray(operations)) throw new Error('"operations" is not an array');
    if (nextId !== undefined && !Number.isSafeInteger(nextId)) throw new Error('"nextId" is not an integer');
    if (seq !== undefined && !Number.isSafeInteger(seq)) throw new Error('"seq" is not an integer');
    // Entries are unknown until checkOperation() has looked at them; the store does that right after read().
    return {
      version: 1,
      nextId: (nextId as number | undefined) ?? 1,
      seq: (seq as number | undefined) ?? 0,
      operations: operations as Operation[],
      firmware: firmware === undefined ? EMPTY_SECTION : sectionOf(firmware),
    };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function sectionOf(raw: unknown): EntitySection {
  if (!isObject(raw)) throw new Error('"firmware" is not an object');
  const { nextId, nextCampaignId, updates, campaigns } = raw;
  if (!Number.isSafeInteger(nextId) || !Number.isSafeInteger(nextCampaignId)) throw new Error('"firmware" ids are not integers');
  if (!Array.isArray(updates) || !Array.isArray(campaigns)) throw new Error('"firmware" updates or campaigns are not arrays');
  return {
    nextId: nextId as number,
    nextCampaignId: nextCampaignId as number,
    updates: updates as Entity[],
    campaigns: campaigns as Entity[],
  };
}

/**
 * undefined when the bytes are not exactly in encode's layout (or the one before the firmware member: it
 * ends after the operations with `\n]}\n`); the caller then parses them as a whole. Decodes one line at a
 * time from the bytes: no string of the whole file (31 MB at 100 000 operations) is ever made, which keeps
 * the start-up peak (and so the RSS the daemon keeps) down.
 */
function parseLines(bytes: Buffer): StoreData | undefined {
  if (bytes.length === 0 || bytes[bytes.length - 1] !== NL) return undefined;
  const headerEnd = bytes.indexOf(NL);
  const header = HEADER.exec(bytes.toString('latin1', 0, headerEnd));
  if (!header) return undefined;
  const ops: Operation[] = [];
  const updates: Entity[] = [];
  const campaigns: Entity[] = [];
  let firmware: { nextId: number; nextCampaignId: number } | undefined;
  let into: unknown[] = ops;
  let opened = true; // the line before was a section's opening: an empty line (an empty section) may follow
  let comma = false; // the last entry ended in a comma: another entry must follow
  for (let start = headerEnd + 1; start < bytes.length;) {
    const end = bytes.indexOf(NL, start);
    const last = end === bytes.length - 1;
    const first = bytes[start];
    if (end === start) {
      if (!opened) return undefined;
      opened = false;
    } else if (first === 0x5d /* ] */) {
      if (comma) return undefined;
      const line = bytes.toString('latin1', start, end);
      if (into === ops && line === ']}' && last && bytes.subarray(start - 1).equals(OLD_FOOTER)) break;
      const fw = into === ops ? FIRMWARE_OPEN.exec(line) : null;
      if (fw) {
        firmware = { nextId: Number(fw[1]), nextCampaignId: Number(fw[2]) };
        into = updates;
      } else if (into === updates && line === CAMPAIGNS_OPEN) into = campaigns;
      else if (into === campaigns && line === END && last) break;
      else return undefined;
      opened = true;
    } else {
      if (opened === false && comma === false && into.length > 0) return undefined;
      comma = bytes[end - 1] === 0x2c; /* , */
      try {
        into.push(JSON.parse(bytes.toString('utf8', start, comma ? end - 1 : end)));
      } catch {
        return undefined;
      }
      opened = false;
    }
    if (last) return undefined; // the file ends without its closing line
    start = end + 1;
  }
  const section = firmware ? { ...firmware, updates, campaigns } : EMPTY_SECTION;
  return { version: 1, nextId: Number(header[1]), seq: Number(header[2] ?? 0), operations: ops, firmware: section };
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
  if (result) op.result = shareResult(result);
}

/** Results without content, by their JSON (a handful: CHANGED(204), NOT_FOUND(404)...); bounded. */
const sharedResults = new Map<string, unknown>();
const SHARED_RESULTS_MAX = 256;

/**
 * A result of only a status and a code (a write's or an execute's: `{"status":"CHANGED(204)","code":204}`)
 * is one frozen instance for every operation that has the same JSON (~40 B each at 100 000 operations read
 * from a file, each parsed on its own); any other result (a read's content, a device's message) is kept.
 */
export function shareResult<T>(result: T): T {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return result;
  const r = result as Record<string, unknown>;
  for (const key in r) {
    if (!(key === 'status' && isString(r.status)) && !(key === 'code' && typeof r.code === 'number')) return result;
  }
  const json = JSON.stringify(r);
  const known = sharedResults.get(json);
  if (known !== undefined) return known as T;
  if (sharedResults.size < SHARED_RESULTS_MAX) sharedResults.set(json, deepFreeze(r));
  return result;
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

import { copyFile, mkdir, readFile, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import type { Operation } from '../operation.js';
import { CorruptFileError, DurableFile } from './durableFile.js';
import { listSegments, readSegment, type SegmentInfo } from './journal.js';
import { checkOperation, EMPTY_SECTION, type StoreCodec, type StoreData } from './storeFile.js';
import { checkEntity, ENTITY_KINDS, EntityTables, type EntityKind } from './entities.js';
import { StoreCorruptError } from './errors.js';
import type { LogSink } from '../../log/logger.js';
import { errorText } from '../../log/errorText.js';

export interface Loaded {
  db: Low<StoreData>;
  adapter: DurableFile<StoreData>;
  /** Valid operations, ascending ids, none left in SENDING. */
  operations: Operation[];
  /** Firmware updates and campaigns (snapshot and journal). */
  entities: EntityTables;
  /** Those taken out of SENDING (to be journaled). */
  recovered: Operation[];
  /** nextId must be at least this (ids seen in a corrupt file or in the journal are not reused). */
  idFloor: number;
  /** A snapshot must be written now: the file was missing, or something was set aside or salvaged. */
  mustWrite: boolean;
  /** The last journal record applied (or the snapshot's seq). */
  seq: number;
  snapshotBytes: number;
  /** The journal segments kept (their torn tails cut off). */
  segments: SegmentInfo[];
}

interface LoadOptions {
  file: string;
  codec: StoreCodec;
  maxAttempts: number;
  iso: () => string;
  log: LogSink;
  /** Keep every complete operation of a corrupt file instead of refusing it. */
  salvage: boolean;
}

/**
 * Reads the store file through lowdb. A file that cannot be read as it is (not JSON, not the store's
 * shape, empty, truncated, invalid entries) is refused with StoreCorruptError, whose message says how
 * to recover: the daemon never starts on a silently emptied store. With `salvage`, the file is copied to
 * `<file>.corrupt-<time>` and every complete, valid operation in it is kept (the file holds one operation
 * per line, so a truncated or damaged file loses only the damaged lines); ids seen anywhere in it are
 * never handed out again.
 * What a crash left in SENDING goes back to QUEUED (its attempt stays counted), or to FAILED once
 * maxAttempts is reached; an execute left in SENDING is FAILED (it may have run on the device).
 */
export async function loadStore(o: LoadOptions): Promise<Loaded> {
  await mkdir(path.dirname(o.file), { recursive: true });
  const empty: StoreData = { version: 1, nextId: 1, seq: 0, operations: [], firmware: EMPTY_SECTION };
  const adapter = new DurableFile(o.file, o.codec);
  const db = new Low<StoreData>(adapter, empty);
  let idFloor = 1;
  let mustWrite = false;
  let salvaged = false;
  try {
    await db.read();
    mustWrite = db.data === empty; // the adapter found no file
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    const reason = errorText(e.cause) || 'unreadable';
    if (!o.salvage) throw new StoreCorruptError(o.file, reason);
    const text = await readFile(o.file, 'utf8');
    idFloor = idFloorOf(text);
    const lines = salvageLines(text);
    db.data = { version: 1, nextId: idFloor, seq: seqOf(text), operations: lines.operations as Operation[], firmware: lines.firmware };
    salvaged = true;
  }

  const invalid: string[] = [];
  const seen = new Set<string>();
  const valid: Operation[] = [];
  db.data.operations.forEach((entry: unknown, i) => {
    const op = checkOperation(entry);
    if (typeof op === 'string' || seen.has(op.id)) invalid.push(`#${i}: ${typeof op === 'string' ? op : 'duplicate id'}`);
    else {
      seen.add(op.id);
      valid.push(op);
    }
  });
  const { firmware } = db.data;
  const entities = new EntityTables({ ...firmware, updates: [], campaigns: [] });
  for (const [kind, list] of [
    ['firmware', firmware.updates],
    ['firmwareCampaign', firmware.campaigns],
  ] as const) {
    list.forEach((entry: unknown, i) => {
      const e = checkEntity(entry);
      if (typeof e === 'string' || entities.get(kind, e.id)) invalid.push(`${kind} #${i}: ${typeof e === 'string' ? e : 'duplicate id'}`);
      else entities.set(kind, e);
    });
  }
  if (invalid.length > 0 && !o.salvage) {
    throw new StoreCorruptError(o.file, `${invalid.length} invalid operation(s) or firmware records: ${invalid.slice(0, 3).join('; ')}`);
  }
  if (salvaged || invalid.length > 0) {
    const copy = `${o.file}.corrupt-${o.iso().replace(/[:.]/g, '-')}`;
    await copyFile(o.file, copy);
    o.log.error(
      { file: o.file, copy, kept: valid.length, dropped: invalid.length },
      'operation store salvaged: every complete operation kept (the file was copied aside)',
    );
    mustWrite = true;
  }
  const byId = new Map<string, Operation>();
  for (const op of valid) byId.set(op.id, op);
  const replayed = await replayJournal(o, db.data.seq, byId, entities);
  idFloor = Math.max(idFloor, replayed.idFloor);
  if (replayed.salvaged) mustWrite = true;
  const snapshotBytes =
    mustWrite && db.data === empty
      ? 0
      : await stat(o.file).then(
          (s) => s.size,
          () => 0,
        );
  let requeued = 0;
  let failed = 0;
  const at = o.iso();
  const recovered: Operation[] = [];
  const operations = [...byId.values()]
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((op) => {
      if (op.status !== 'SENDING') return op;
      const attempts = Math.max(op.attempts, 1); // the interrupted attempt was counted by markSending
      // an execute may have run on the device: never repeated (as when the connection is lost after sending it)
      const mayHaveRun = op.kind === 'execute';
      const gaveUp = mayHaveRun || attempts >= o.maxAttempts;
      if (gaveUp) failed++;
      else requeued++;
      const error = mayHaveRun ? 'interrupted while sending: the device may have run it' : 'interrupted; maxAttempts reached';
      const back = Object.freeze(
        gaveUp
          ? { ...op, attempts, status: 'FAILED' as const, error, updatedAt: at }
          : { ...op, attempts, status: 'QUEUED' as const, error: 'interrupted while sending', updatedAt: at },
      );
      recovered.push(back);
      return back;
    });
  if (requeued + failed > 0) o.log.warn({ requeued, failed }, 'operation store: operations interrupted while sending recovered');
  return {
    db,
    adapter,
    operations,
    entities,
    recovered,
    idFloor,
    mustWrite,
    seq: Math.max(db.data.seq, replayed.seq),
    snapshotBytes,
    segments: replayed.segments,
  };
}

/**
 * Applies the journal segments, oldest first, to the operations read from the snapshot: records up to the
 * snapshot's `seq` are already in it and skipped. A damaged tail with nothing valid after it (a torn last
 * group: only an unacknowledged write can be there) is cut off the file. Damage followed by valid records,
 * or a record that is not the journal's, is refused with StoreCorruptError; with `salvage`, the segment is
 * copied aside and every valid record in it is kept (the caller then writes a snapshot).
 */
async function replayJournal(
  o: LoadOptions,
  snapshotSeq: number,
  byId: Map<string, Operation>,
  entities: EntityTables,
): Promise<{ seq: number; idFloor: number; segments: SegmentInfo[]; salvaged: boolean }> {
  let seq = snapshotSeq;
  let idFloor = 1;
  let salvaged = false;
  const segments: SegmentInfo[] = [];
  for (const { gen, file } of await listSegments(o.file)) {
    let records = 0;
    let bad: string | undefined;
    const apply = (json: string) => {
      const problem = applyRecord(json);
      if (problem !== undefined) bad ??= problem;
      else records++;
    };
    const applyRecord = (json: string): string | undefined => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(json) as Record<string, unknown>;
      } catch {
        return 'a record is not JSON';
      }
      if (!Number.isSafeInteger(rec.seq)) return 'a record has no seq';
      const recSeq = rec.seq as number;
      if (recSeq <= snapshotSeq) return undefined; // in the snapshot already
      if (recSeq <= seq) return `seq ${recSeq} after ${seq}`;
      seq = recSeq;
      if (rec.type === 'mark') return undefined;
      if (typeof rec.type === 'string' && ENTITY_KINDS.has(rec.type)) return applyEntity(rec.type as EntityKind, rec);
      if (rec.type !== 'operation') return `unknown record type ${JSON.stringify(rec.type)}`;
      if (typeof rec.del === 'string') {
        byId.delete(rec.del);
        return undefined;
      }
      const op = checkOperation(rec.put);
      if (typeof op === 'string') return `seq ${recSeq}: ${op}`;
      byId.set(op.id, op);
      idFloor = Math.max(idFloor, Number(op.id) + 1);
      return undefined;
    };
    const applyEntity = (kind: EntityKind, rec: Record<string, unknown>): string | undefined => {
      if (typeof rec.del === 'string') {
        entities.delete(kind, rec.del);
        return undefined;
      }
      const e = checkEntity(rec.put);
      if (typeof e === 'string') return `seq ${String(rec.seq)}: ${kind} ${e}`;
      entities.set(kind, e);
      return undefined;
    };
    const read = await readSegment(file, apply);
    if (read.damage === 'corrupt' || bad !== undefined) {
      const reason = bad ?? `damaged at byte ${read.validBytes} of ${read.size}, with valid records after it`;
      if (!o.salvage) throw new StoreCorruptError(file, reason);
      const copy = `${file}.corrupt-${o.iso().replace(/[:.]/g, '-')}`;
      await copyFile(file, copy);
      const text = await readFile(file, 'latin1');
      idFloor = Math.max(idFloor, idFloorOf(text)); // ids in the records lost are not reused either
      for (const m of text.matchAll(/"type":"(firmware|firmwareCampaign)","put":\{"id":"([0-9]{1,15})"/g)) {
        entities.floor(m[1] as EntityKind, Number(m[2]) + 1);
      }
      o.log.error(
        { file, copy, reason },
        'operation store journal salvaged: every valid record before the damage kept (the file was copied aside)',
      );
      salvaged = true;
    } else if (read.damage === 'torn') {
      await truncate(file, read.validBytes);
      o.log.warn({ file, cut: read.size - read.validBytes }, 'operation store journal: a torn last write (never acknowledged) cut off');
    }
    segments.push({ gen, bytes: read.validBytes, records });
  }
  return { seq, idFloor, segments, salvaged };
}

/** The highest seq a damaged snapshot's header still shows (0 if none). */
function seqOf(text: string): number {
  const m = /^\{"version":1,"nextId":[0-9]{1,15},"seq":([0-9]{1,15})/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The lowest id never seen in `text`: ids (and nextId) found anywhere in a damaged file are not reused. */
function idFloorOf(text: string): number {
  let floor = 1;
  for (const m of text.matchAll(/"(id|nextId)"\s*:\s*"?([0-9]{1,15})/g)) floor = Math.max(floor, Number(m[2]) + (m[1] === 'id' ? 1 : 0));
  return floor;
}

/**
 * Every line of a damaged store file that is a whole JSON object (the file holds one operation, firmware
 * update or campaign per line; the lines opening the firmware member and its campaigns say which).
 */
function salvageLines(text: string): { operations: unknown[]; firmware: StoreData['firmware'] } {
  const operations: unknown[] = [];
  const updates: unknown[] = [];
  const campaigns: unknown[] = [];
  let into = operations;
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/,$/, '');
    if (line.startsWith('],"firmware":')) into = updates;
    if (line.startsWith('],"campaigns":')) into = campaigns;
    if (!line.startsWith('{') || !line.endsWith('}')) continue;
    try {
      into.push(JSON.parse(line));
    } catch {
      // a damaged line: its entry is lost, the others are kept
    }
  }
  const firmware = { nextId: 1, nextCampaignId: 1, updates: updates as never[], campaigns: campaigns as never[] };
  return { operations, firmware };
}

import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import type { Operation } from '../operation.js';
import { CorruptFileError, DurableFile } from './durableFile.js';
import { checkOperation, type StoreCodec, type StoreData } from './storeFile.js';
import { StoreCorruptError } from './errors.js';
import type { LogSink } from '../../log/logger.js';
import { errorText } from '../../log/errorText.js';

export interface Loaded {
  db: Low<StoreData>;
  /** Valid operations, ascending ids, none left in SENDING. */
  operations: Operation[];
  /** nextId must be at least this (ids seen in a corrupt file are not reused). */
  idFloor: number;
  /** The file must be written now: it was missing, set aside, partly invalid, or operations were recovered. */
  mustWrite: boolean;
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
 * maxAttempts is reached.
 */
export async function loadStore(o: LoadOptions): Promise<Loaded> {
  await mkdir(path.dirname(o.file), { recursive: true });
  const empty: StoreData = { version: 1, nextId: 1, operations: [] };
  const db = new Low<StoreData>(new DurableFile(o.file, o.codec), empty);
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
    db.data = { version: 1, nextId: idFloor, operations: salvageLines(text) as Operation[] };
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
  if (invalid.length > 0 && !o.salvage) {
    throw new StoreCorruptError(o.file, `${invalid.length} invalid operation(s): ${invalid.slice(0, 3).join('; ')}`);
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
  let requeued = 0;
  let failed = 0;
  const at = o.iso();
  const operations = valid
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((op) => {
      if (op.status !== 'SENDING') return op;
      const attempts = Math.max(op.attempts, 1); // the interrupted attempt was counted by markSending
      const gaveUp = attempts >= o.maxAttempts;
      if (gaveUp) failed++;
      else requeued++;
      return Object.freeze(
        gaveUp
          ? { ...op, attempts, status: 'FAILED' as const, error: 'interrupted; maxAttempts reached', updatedAt: at }
          : { ...op, attempts, status: 'QUEUED' as const, error: 'interrupted while sending', updatedAt: at },
      );
    });
  if (requeued + failed > 0) {
    o.log.warn({ requeued, failed }, 'operation store: operations interrupted while sending recovered');
    mustWrite = true;
  }
  return { db, operations, idFloor, mustWrite };
}

/** The lowest id never seen in `text`: ids (and nextId) found anywhere in a damaged file are not reused. */
function idFloorOf(text: string): number {
  let floor = 1;
  for (const m of text.matchAll(/"(id|nextId)"\s*:\s*"?([0-9]{1,15})/g)) floor = Math.max(floor, Number(m[2]) + (m[1] === 'id' ? 1 : 0));
  return floor;
}

/** Every line of a damaged store file that is a whole JSON object (the file holds one operation per line). */
function salvageLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/,$/, '');
    if (!line.startsWith('{') || !line.endsWith('}')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a damaged line: its operation is lost, the others are kept
    }
  }
  return out;
}

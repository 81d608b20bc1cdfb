import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import type { Operation } from '../operation.js';
import { CorruptFileError, DurableFile } from './durableFile.js';
import { checkOperation, type StoreCodec, type StoreData } from './storeFile.js';
import type { StoreLog } from './types.js';

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
  log: StoreLog;
}

/**
 * Reads the store file through lowdb. A file that is not JSON (or not the store's shape) is renamed to
 * `<file>.corrupt-<timestamp>` and the store starts empty; invalid entries in a valid file are dropped
 * after the whole file is copied aside. Either way it is logged as an error, never silently discarded.
 * What a crash left in SENDING goes back to QUEUED (its attempt stays counted), or to FAILED once
 * maxAttempts is reached.
 */
export async function loadStore(o: LoadOptions): Promise<Loaded> {
  await mkdir(path.dirname(o.file), { recursive: true });
  const empty: StoreData = { version: 1, nextId: 1, operations: [] };
  const db = new Low<StoreData>(new DurableFile(o.file, o.codec), empty);
  const stamp = () => o.iso().replace(/[:.]/g, '-');
  let idFloor = 1;
  let mustWrite = false;
  try {
    await db.read();
    mustWrite = db.data === empty; // the adapter found no file
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    const text = await readFile(o.file, 'utf8');
    for (const m of text.matchAll(/"(id|nextId)"\s*:\s*"?([0-9]{1,15})/g)) idFloor = Math.max(idFloor, Number(m[2]) + (m[1] === 'id' ? 1 : 0));
    const aside = `${o.file}.corrupt-${stamp()}`;
    await rename(o.file, aside);
    o.log.error({ file: o.file, aside, err: e.message }, 'operation store file corrupt: set aside, starting empty');
    db.data = empty;
    mustWrite = true;
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
  if (invalid.length > 0) {
    const copy = `${o.file}.corrupt-${stamp()}`;
    await copyFile(o.file, copy);
    o.log.error({ file: o.file, copy, dropped: invalid.length, reasons: invalid.slice(0, 10) }, 'operation store: invalid operations dropped (file copied aside)');
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

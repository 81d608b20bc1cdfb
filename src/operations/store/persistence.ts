import { stat } from 'node:fs/promises';
import type { Low } from 'lowdb';
import type { Operation } from '../operation.js';
import { encodeFrames } from '../../dataDir/frames.js';
import type { Journal } from './journal.js';
import { EMPTY_SECTION, type Entity, type EntitySection, type StoreData } from './storeFile.js';
import type { EntityKind } from './entities.js';
import type { DurableFile } from './durableFile.js';
import type { LogSink } from '../../log/logger.js';
import { errorText } from '../../log/errorText.js';

/** One change of a group: the entity as it is now (`put`), or the id of a removed one (`del`). */
export type Change =
  | { type: 'operation'; put: Operation }
  | { type: 'operation'; del: string }
  | { type: EntityKind; put: Entity }
  | { type: EntityKind; del: string };

/** The state to snapshot, taken synchronously: the arrays are copied (references only: everything is frozen). */
export type StateView = () => { nextId: number; operations: readonly Operation[]; firmware: EntitySection };

export interface CompactionPolicy {
  /** Compact once the journal holds this many bytes, or `snapshotRatio` times the snapshot's size if more. */
  compactBytes: number;
  snapshotRatio: number;
  /** ...or this many records, whatever their size (bounds the replay at start-up). */
  compactRecords: number;
}

export const DEFAULT_POLICY: CompactionPolicy = { compactBytes: 4 * 1024 * 1024, snapshotRatio: 2, compactRecords: 500_000 };

/**
 * The store on disk: lowdb's snapshot file plus the journal. Each group of changes is appended to the
 * journal as one write (one record per change) and fdatasync'd; that is what a caller waits for. Once the
 * journal passes the policy's size or count, the next group starts a compaction in the background: the
 * journal is sealed right after that group (later groups go to a new segment, never waiting), the state as
 * of that group is written as the new snapshot through lowdb (atomic temp + fsync + rename + directory
 * fsync) once that group is on disk, and then the sealed segments are removed. The snapshot carries the
 * `seq` of the last record it holds: a crash after its rename but before the removal replays nothing twice.
 */
export class StorePersistence {
  private seq: number;
  private snapshotBytes: number;
  private compacting: Promise<void> | undefined;
  /** After a failed compaction, the next try waits for this many journal bytes. */
  private retryAtBytes = 0;
  compactions = 0;
  compactionFailures = 0;
  lastCompactionMs = 0;

  constructor(
    private readonly db: Low<StoreData>,
    private readonly snapshotFile: DurableFile<StoreData>,
    readonly journal: Journal,
    private readonly o: { seq: number; snapshotBytes: number; policy: CompactionPolicy; log: LogSink },
  ) {
    this.seq = o.seq;
    this.snapshotBytes = o.snapshotBytes;
  }

  /** Bytes written to the journal and the snapshot since open. */
  get bytesWritten(): number {
    return this.journal.bytesWritten + this.snapshotFile.bytesWritten;
  }

  /**
   * Appends one group (an empty group appends a `mark` record: it proves the disk takes writes). Encodes
   * synchronously; resolves once the group is on disk. May start a compaction with the state as of this group.
   */
  writeGroup(changes: readonly Change[], state: StateView): Promise<void> {
    const jsons: string[] = [];
    for (const c of changes) jsons.push(JSON.stringify({ seq: ++this.seq, ...c }));
    if (jsons.length === 0) jsons.push(JSON.stringify({ seq: ++this.seq, type: 'mark' }));
    const frames = encodeFrames(jsons);
    const snapshot = this.compactionDue(frames.length) ? this.capture(state) : undefined;
    const appended = this.journal.append(frames, jsons.length);
    if (snapshot) this.startCompaction(appended, snapshot);
    return appended;
  }

  /** Writes a snapshot of the state now and removes the journal (at open after a salvage, and at close). No group may be in flight. */
  async compactNow(state: StateView): Promise<void> {
    await this.idle();
    await this.startCompaction(Promise.resolve(), this.capture(state));
  }

  /** Resolves when no compaction runs. */
  async idle(): Promise<void> {
    while (this.compacting) await this.compacting;
  }

  private compactionDue(adding: number): boolean {
    if (this.compacting) return false;
    const bytes = this.journal.bytes + adding;
    if (bytes < this.retryAtBytes) return false;
    const limit = Math.max(this.o.policy.compactBytes, this.snapshotBytes * this.o.policy.snapshotRatio);
    return bytes >= limit || this.journal.records + 1 >= this.o.policy.compactRecords;
  }

  private capture(state: StateView): StoreData {
    const { nextId, operations, firmware } = state();
    return { version: 1, nextId, seq: this.seq, operations: operations.slice(), firmware };
  }

  /** Starts a compaction in the background; the promise returned rejects when it fails (also logged). */
  private startCompaction(appended: Promise<void>, snapshot: StoreData): Promise<void> {
    const sealed = this.journal.seal();
    const started = performance.now();
    const run = (async () => {
      try {
        await appended; // the state includes this group: never snapshot a change the journal did not take
      } finally {
        await sealed.close();
      }
      this.db.data = snapshot;
      try {
        await this.db.write();
      } finally {
        this.db.data = { ...snapshot, operations: [], firmware: EMPTY_SECTION }; // do not keep the replaced entries alive
      }
      this.snapshotBytes = (await stat(this.snapshotFile.file)).size;
      await this.journal.removeUpTo(sealed.gen);
    })();
    const current = run.then(
      () => {
        this.compactions++;
        this.lastCompactionMs = performance.now() - started;
        this.retryAtBytes = 0;
      },
      (err: unknown) => {
        this.compactionFailures++;
        this.retryAtBytes = this.journal.bytes + this.o.policy.compactBytes;
        this.o.log.warn(
          { file: this.snapshotFile.file, err: errorText(err) },
          'operation store compaction not done: the journal keeps every change, a later compaction tries again',
        );
      },
    );
    this.compacting = current;
    void current.finally(() => {
      if (this.compacting === current) this.compacting = undefined;
    });
    return run;
  }
}

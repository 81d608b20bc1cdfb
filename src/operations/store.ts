/**
 * The durable operation store: in-memory indexes over lowdb's JSON snapshot (`dataDir/operations.json`)
 * and a journal beside it (`operations.json.journal-<gen>`, see StorePersistence and docs/store.md).
 * Changes are grouped; each group is appended to the journal and fdatasync'd before any of its callers
 * is answered; the snapshot is rewritten in the background once the journal has grown. Nothing is
 * acknowledged before it is on disk, except `markSending` (see there).
 *
 * A change is on disk and acknowledged, or undone and refused: when a write fails (disk full, I/O
 * error), every change not yet on disk is undone in memory (the memory is again what the file holds),
 * their callers get StoreUnavailableError, and the store refuses changes until a retried write of that
 * state succeeds (`retryWriteMs`).
 */
import { FINAL_STATUSES, LIST_CURSOR, OPERATION_ID, type Operation, type OperationStatus } from './operation.js';
import { StoreClosedError, StoreConflictError, StoreCorruptError, StoreNotFoundError, StoreUnavailableError } from './store/errors.js';
import { GroupedWriter } from './store/groupedWriter.js';
import { OperationIndex } from './store/indexes.js';
import { Journal } from './store/journal.js';
import { checkEntity, EntityTables, type Entity, type EntityKind } from './store/entities.js';
import { WriteOutage } from './store/outage.js';
import { UndoLog } from './store/undo.js';
import { loadStore } from './store/load.js';
import { DEFAULT_POLICY, StorePersistence } from './store/persistence.js';
import { EMPTY_SECTION, frozenJson, shareResult, StoreCodec } from './store/storeFile.js';
import type { CreateOperationInput, ListQuery, OperationStoreOptions, SettlePatch } from './store/types.js';
import { errorText } from '../log/errorText.js';
import type { LogSink } from '../log/logger.js';

export { StoreClosedError, StoreConflictError, StoreCorruptError, StoreNotFoundError, StoreUnavailableError };
export type { CreateOperationInput, Entity, EntityKind, ListQuery, OperationStoreOptions, SettlePatch };

const SETTLED: ReadonlySet<OperationStatus> = new Set(['QUEUED', 'CONFIRMED', 'FAILED', 'EXPIRED']);
const noLog: LogSink = { debug() {}, info() {}, warn() {}, error() {} };
const DEFAULT_RETRY_WRITE_MS = 2000;

export class OperationStore {
  private readonly now: () => number;
  private readonly log: LogSink;
  private readonly writer: GroupedWriter;
  private persistence: StorePersistence | undefined;
  private nextId = 1;
  private index = new OperationIndex([]);
  private closed = false;
  /** The changes not on disk yet, to be put back should their write fail. */
  private undo = new UndoLog(1);
  /** Firmware updates and campaigns (records of their own type in the same journal). */
  private entities = new EntityTables();
  private readonly outage = new WriteOutage();

  constructor(private readonly options: OperationStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? noLog;
    this.writer = new GroupedWriter(
      () => this.persistence!.writeGroup(this.undo.changesInFlight(this.index, this.entities), this.state),
      (err) => this.writeFailed(err),
      () => this.undo.startWrite(this.nextId),
    );
  }

  /** The state to snapshot: what the journal holds once the group being written is on disk. */
  private readonly state = () => ({ nextId: this.nextId, operations: this.index.ops, firmware: this.entities.section() });

  /**
   * Loads the snapshot, replays the journal, and requeues (or fails) what a crash left in SENDING.
   * @throws StoreCorruptError when the file or a journal segment cannot be read as it is, unless `salvage`
   *   is set: then every complete operation and record is kept and the damaged file is copied aside first.
   */
  async open(): Promise<void> {
    if (this.persistence) throw new Error('operation store already open');
    const { file, maxAttempts } = this.options;
    const started = performance.now();
    const loaded = await loadStore({
      file,
      codec: new StoreCodec(),
      maxAttempts,
      iso: () => this.iso(),
      log: this.log,
      salvage: this.options.salvage === true,
    });
    this.index = new OperationIndex(loaded.operations);
    this.entities = loaded.entities;
    this.nextId = Math.max(loaded.db.data.nextId, this.index.lastId + 1, loaded.idFloor);
    loaded.db.data = { version: 1, nextId: this.nextId, seq: loaded.seq, operations: [], firmware: EMPTY_SECTION };
    this.persistence = new StorePersistence(loaded.db, loaded.adapter, new Journal(file, loaded.segments), {
      seq: loaded.seq,
      snapshotBytes: loaded.snapshotBytes,
      policy: { ...DEFAULT_POLICY, ...this.options.compaction },
      log: this.log,
    });
    this.undo = new UndoLog(this.nextId);
    if (loaded.mustWrite) await this.persistence.compactNow(this.state);
    if (loaded.recovered.length > 0) {
      for (const op of loaded.recovered) this.undo.operation(Number(op.id), op);
      await this.writer.changed();
    }
    this.openMs = performance.now() - started;
    const journal = { segments: loaded.segments.length, records: this.persistence.journal.records };
    this.log.info({ file, operations: this.index.size, nextId: this.nextId, journal, ms: Math.round(this.openMs) }, 'operation store open');
  }

  /** How long open() took, ms (read, replay, recovery). */
  openMs = 0;

  async create(input: CreateOperationInput): Promise<{ operation: Operation; replayed: boolean }> {
    this.writable();
    if (input.idempotencyKey !== undefined) {
      const existing = this.index.byIdempotencyKey(input.ep, input.idempotencyKey);
      if (existing) {
        await this.writer.flush(); // the original may still be on its way to the disk
        return { operation: existing, replayed: true };
      }
    }
    const at = this.iso();
    const { ep, kind, path: opPath, type, args, expiresAt, idempotencyKey } = input;
    const value = input.value === undefined ? undefined : frozenJson(input.value); // throws before an id is taken
    const op: Operation = Object.freeze({
      id: String(this.nextId++),
      ep,
      kind,
      path: opPath,
      ...(value !== undefined && { value }),
      ...(type !== undefined && { type }),
      ...(args !== undefined && { args }),
      status: 'QUEUED' as const,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
      ...(expiresAt !== undefined && { expiresAt }),
      ...(idempotencyKey !== undefined && { idempotencyKey }),
    });
    this.undo.operation(Number(op.id), null);
    this.index.add(op);
    await this.written();
    this.changedStatus(op);
    return { operation: op, replayed: false };
  }

  /** The operation, frozen: never mutate what the store returns. */
  get(id: string): Operation | undefined {
    return OPERATION_ID.test(id) ? this.index.get(Number(id)) : undefined;
  }

  /** Oldest first (ascending ids) or newest first; `next` is the `after` of the following page, when there is one. */
  list(query: ListQuery): { items: Operation[]; next?: string } {
    const { ep, statuses, after, limit } = query;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bad limit ${limit}`);
    if (after !== undefined && !LIST_CURSOR.test(after)) throw new RangeError(`bad cursor ${JSON.stringify(after)}`);
    const keep = statuses === undefined ? () => true : (op: Operation) => statuses.has(op.status);
    const items = this.index.scan(ep, after === undefined ? 0 : Number(after), keep, limit + 1, query.order === 'newest');
    if (items.length <= limit) return { items };
    items.length = limit;
    return { items, next: items[limit - 1]!.id };
  }

  /** The oldest QUEUED operation of `ep`. */
  nextQueued(ep: string): Operation | undefined {
    return this.index.nextQueued(ep);
  }

  queuedCount(ep: string): number {
    return this.index.queuedCount(ep);
  }

  endpointsWithQueued(): string[] {
    return this.index.endpointsWithQueued();
  }

  endpoints(): string[] {
    return this.index.endpoints();
  }

  countsByStatus(): Record<OperationStatus, number> {
    return { ...this.index.counts };
  }

  /**
   * QUEUED -> SENDING, attempt counted, in memory at once and scheduled for writing. Delivery waits for
   * `flush()` before it sends, so that no request goes out on a change the disk did not take.
   */
  markSending(id: string): Operation {
    this.writable();
    const op = this.mustGet(id);
    if (op.status !== 'QUEUED') throw new StoreConflictError(id, op.status, 'send');
    const at = this.iso();
    const next = this.put(op, { status: 'SENDING', attempts: op.attempts + 1, lastAttemptAt: at }, at);
    void this.writer.changed();
    this.changedStatus(next);
    return next;
  }

  /**
   * The outcome of the attempt started by markSending. A QUEUED outcome that uses the last allowed attempt
   * becomes FAILED ("...; maxAttempts reached"), so no caller can requeue an operation forever.
   */
  async settle(id: string, patch: SettlePatch): Promise<Operation> {
    this.writable();
    const op = this.mustGet(id);
    if (!SETTLED.has(patch.status)) throw new RangeError(`cannot settle as ${patch.status}`);
    if (op.status !== 'SENDING') throw new StoreConflictError(id, op.status, `settle as ${patch.status}`);
    const counted = patch.countAttempt !== false;
    const attempts = counted ? op.attempts : Math.max(0, op.attempts - 1);
    let status = patch.status;
    let error = patch.error ?? (status === 'CONFIRMED' ? undefined : op.error);
    if (status === 'QUEUED' && counted && attempts >= this.options.maxAttempts) {
      status = 'FAILED';
      error = `${error ?? 'not delivered'}; maxAttempts reached`;
    }
    const result = patch.result === undefined ? op.result : shareResult(frozenJson(patch.result));
    const next = this.put(op, { status, attempts, result, error });
    await this.written();
    this.changedStatus(next);
    return next;
  }

  /** QUEUED -> CANCELLED; StoreConflictError in any other status. */
  cancel(id: string): Promise<Operation> {
    return this.fromQueued(id, 'CANCELLED', 'cancel');
  }

  /** QUEUED -> EXPIRED (its expiresAt has passed). */
  expire(id: string): Promise<Operation> {
    return this.fromQueued(id, 'EXPIRED', 'expire');
  }

  /** Removes finished operations last updated more than pruneAfterMs ago; ids are never reused. */
  async prune(): Promise<number> {
    this.writable();
    const cutoff = this.now() - this.options.pruneAfterMs;
    const removed = this.index.removeWhere((op) => {
      if (!FINAL_STATUSES.has(op.status) || Date.parse(op.updatedAt) >= cutoff) return false;
      this.remember(op);
      return true;
    });
    if (removed > 0) await this.written();
    return removed;
  }

  /**
   * A new id for a firmware update or campaign. Not handed out again while the store is open; after a
   * restart, ids of updates and campaigns stored (and the snapshot's next ids) are not either.
   */
  takeEntityId(kind: EntityKind): string {
    return this.entities.takeId(kind);
  }

  /** Ids below `next` are not handed out for `kind` (a file being imported had them). */
  entityIdFloor(kind: EntityKind, next: number): void {
    this.entities.floor(kind, next);
  }

  /** The firmware update or campaign, frozen. */
  getEntity<T extends Entity>(kind: EntityKind, id: string): T | undefined {
    return this.entities.get(kind, id) as T | undefined;
  }

  /** Every firmware update or campaign, ascending ids, frozen. */
  allEntities<T extends Entity>(kind: EntityKind): T[] {
    return this.entities.all(kind) as T[];
  }

  /**
   * Stores a firmware update or campaign (a frozen JSON copy of it): a journal record of its own `type`,
   * with the durability of operations. Resolves once it is on disk; StoreUnavailableError when the write
   * failed (the change is undone) or the store refuses changes.
   */
  async putEntity(kind: EntityKind, entity: Entity): Promise<void> {
    this.writable();
    const stored = checkEntity(frozenJson(entity));
    if (typeof stored === 'string') throw new RangeError(`${kind}: ${stored}`);
    this.undo.entity(kind, stored.id, this.entities.get(kind, stored.id) ?? null);
    this.entities.set(kind, stored);
    await this.written();
  }

  /**
   * Removes a firmware update or campaign (a `del` record of its `type`); resolves once that is on disk,
   * StoreUnavailableError when the write failed (it is back) or the store refuses changes. Nothing to remove:
   * resolves at once.
   */
  async deleteEntity(kind: EntityKind, id: string): Promise<void> {
    this.writable();
    const prev = this.entities.get(kind, id);
    if (!prev) return;
    this.undo.entity(kind, id, prev);
    this.entities.delete(kind, id);
    await this.written();
  }

  /** Resolves once every change made so far is on disk; StoreUnavailableError when they were undone. */
  async flush(): Promise<void> {
    try {
      await this.writer.flush();
    } catch (e) {
      throw new StoreUnavailableError(errorText(e));
    }
  }

  /** Whether the store takes changes (false after a failed write, until a retried one succeeds). */
  get available(): boolean {
    return this.outage.current === undefined && !this.closed;
  }

  /** For /health: whether writes succeed, and since when they do not. */
  status(): { ok: boolean; operations: number; lastWriteMs: number; error?: string; failingSince?: string } {
    const failure = this.outage.current;
    const base = { ok: failure === undefined, operations: this.index.size, lastWriteMs: Math.round(this.lastWriteMs * 10) / 10 };
    return failure ? { ...base, error: failure.reason, failingSince: failure.since } : base;
  }

  /** Resolves when the store takes changes again (at once when it does). */
  whenWritable(): Promise<void> {
    return this.closed ? Promise.resolve() : this.outage.whenOver();
  }

  /**
   * Refuses further changes, waits for the last write, then folds the journal into a new snapshot (so a
   * clean stop leaves one file; a failure there loses nothing: the journal stays).
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.outage.stop();
    const p = this.persistence;
    if (!p) return;
    if (this.outage.current === undefined) await this.writer.flush();
    await p.idle();
    if (this.outage.current === undefined && p.journal.records > 0) await p.compactNow(this.state).catch(() => undefined); // logged by compactNow
    await p.journal.close();
  }

  /** Journal appends that reached the disk since open. */
  get writeCount(): number {
    return this.writer.writes;
  }

  /** Duration of the last journal append, ms (encode, write, fdatasync). */
  get lastWriteMs(): number {
    return this.writer.lastWriteMs;
  }

  /** For /metrics and the benchmarks: bytes written, journal size, compactions. */
  diskStats(): {
    bytesWritten: number;
    journalBytes: number;
    journalRecords: number;
    compactions: number;
    compactionFailures: number;
    lastCompactionMs: number;
  } {
    const p = this.persistence;
    if (!p) return { bytesWritten: 0, journalBytes: 0, journalRecords: 0, compactions: 0, compactionFailures: 0, lastCompactionMs: 0 };
    return {
      bytesWritten: p.bytesWritten,
      journalBytes: p.journal.bytes,
      journalRecords: p.journal.records,
      compactions: p.compactions,
      compactionFailures: p.compactionFailures,
      lastCompactionMs: p.lastCompactionMs,
    };
  }

  /** Resolves when no compaction runs (tests and benchmarks). */
  compacted(): Promise<void> {
    return this.persistence?.idle() ?? Promise.resolve();
  }

  get size(): number {
    return this.index.size;
  }

  private async fromQueued(id: string, status: OperationStatus, action: string): Promise<Operation> {
    this.writable();
    const op = this.mustGet(id);
    if (op.status !== 'QUEUED') throw new StoreConflictError(id, op.status, action);
    const next = this.put(op, { status });
    await this.written();
    this.changedStatus(next);
    return next;
  }

  /**
   * The operator's trail: one info line per status change, once it is on disk (SENDING when it is made), e.g.
   * `{"ep":"dev1","id":"7","kind":"write","path":"/5/0/1","status":"CONFIRMED","attempts":1,"message":"operation CONFIRMED"}`.
   */
  private changedStatus(op: Operation): void {
    const { ep, id, kind, path, status, attempts, error } = op;
    this.log.info(
      { ep, id, kind, path, status, attempts, ...(error !== undefined && status !== 'CONFIRMED' && { error }) },
      `operation ${status}`,
    );
  }

  /** Waits for the changes just made to be on disk; StoreUnavailableError when they could not be (and were undone). */
  private async written(): Promise<void> {
    try {
      await this.writer.changed();
    } catch (e) {
      throw new StoreUnavailableError(errorText(e));
    }
  }

  /** Keeps `op` as it is now, to be put back should the change about to be made not reach the disk. */
  private remember(op: Operation): void {
    this.undo.operation(Number(op.id), op);
  }

  /**
   * A write failed: undo every change not on disk (newest first), so that memory is again what the file
   * holds, and refuse changes until a write succeeds again.
   */
  private writeFailed(err: unknown): void {
    const reason = errorText(err);
    const { nextId, undone } = this.undo.undoAll(this.index, this.entities, this.nextId);
    this.nextId = nextId;
    if (this.outage.begin(reason, this.iso())) {
      this.log.error(
        { file: this.options.file, err: reason, undone },
        'operation store cannot write: changes undone, refusing new ones until the disk takes writes',
      );
    }
    if (this.closed) return;
    this.outage.retryIn(
      this.options.retryWriteMs ?? DEFAULT_RETRY_WRITE_MS,
      () => this.writer.flush(),
      (since) => this.log.info({ file: this.options.file, failingSince: since }, 'operation store writes again'),
    );
  }

  /** Replaces `prev` by a frozen copy with `changes` (undefined removes a field) and a new updatedAt. */
  private put(prev: Operation, changes: Partial<Operation>, at = this.iso()): Operation {
    this.remember(prev);
    const next: Record<string, unknown> = { ...prev, ...changes, updatedAt: at };
    for (const key of Object.keys(changes)) if (next[key] === undefined) delete next[key];
    const op = Object.freeze(next) as unknown as Operation;
    this.index.replace(op);
    return op;
  }

  private mustGet(id: string): Operation {
    const op = this.get(id);
    if (!op) throw new StoreNotFoundError(id);
    return op;
  }

  private writable(): void {
    if (!this.persistence || this.closed) throw new StoreClosedError();
    const failure = this.outage.current;
    if (failure) throw new StoreUnavailableError(failure.reason);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

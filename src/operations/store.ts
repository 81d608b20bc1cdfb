/**
 * The durable operation store: lowdb over one JSON file (`dataDir/operations.json`), written through an
 * fsync'd atomic-replace adapter, with grouped writes and in-memory indexes. Nothing is acknowledged
 * before it is on disk, except `markSending` (see there).
 */
import { FINAL_STATUSES, type Operation, type OperationStatus } from './operation.js';
import type { Low } from 'lowdb';
import { StoreClosedError, StoreConflictError, StoreNotFoundError } from './store/errors.js';
import { GroupedWriter } from './store/groupedWriter.js';
import { OperationIndex } from './store/indexes.js';
import { loadStore } from './store/load.js';
import { frozenJson, StoreCodec, type StoreData } from './store/storeFile.js';
import type { CreateOperationInput, ListQuery, OperationStoreOptions, SettlePatch, StoreLog } from './store/types.js';

export { StoreClosedError, StoreConflictError, StoreNotFoundError };
export type { CreateOperationInput, ListQuery, OperationStoreOptions, SettlePatch, StoreLog };

const SETTLED: ReadonlySet<OperationStatus> = new Set(['QUEUED', 'CONFIRMED', 'FAILED', 'EXPIRED']);
const ID = /^[1-9][0-9]{0,14}$/;
const CURSOR = /^(0|[1-9][0-9]{0,14})$/;
const noLog: StoreLog = { info() {}, warn() {}, error() {} };

export class OperationStore {
  private readonly now: () => number;
  private readonly log: StoreLog;
  private readonly codec = new StoreCodec();
  private readonly writer: GroupedWriter;
  private db: Low<StoreData> | undefined;
  private index = new OperationIndex([]);
  private closed = false;

  constructor(private readonly options: OperationStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? noLog;
    this.writer = new GroupedWriter(
      () => this.db!.write(),
      (err) => this.log.error({ err, file: options.file }, 'operation store write failed'),
    );
  }

  /** Loads the file, sets a corrupt one aside, and requeues (or fails) what a crash left in SENDING. */
  async open(): Promise<void> {
    if (this.db) throw new Error('operation store already open');
    const { file, maxAttempts } = this.options;
    const loaded = await loadStore({ file, codec: this.codec, maxAttempts, iso: () => this.iso(), log: this.log });
    this.index = new OperationIndex(loaded.operations);
    const nextId = Math.max(loaded.db.data.nextId, this.index.lastId + 1, loaded.idFloor);
    loaded.db.data = { version: 1, nextId, operations: this.index.ops };
    this.db = loaded.db;
    if (loaded.mustWrite) await this.writer.changed();
    this.log.info({ file, operations: this.index.size, nextId }, 'operation store open');
  }

  async create(input: CreateOperationInput): Promise<{ operation: Operation; replayed: boolean }> {
    const data = this.writable();
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
      id: String(data.nextId++),
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
    this.index.add(op);
    await this.writer.changed();
    return { operation: op, replayed: false };
  }

  /** The operation, frozen: never mutate what the store returns. */
  get(id: string): Operation | undefined {
    return ID.test(id) ? this.index.get(Number(id)) : undefined;
  }

  /** Ascending ids (newest last); `next` is the `after` of the following page, when there is one. */
  list(query: ListQuery): { items: Operation[]; next?: string } {
    const { ep, status, after, limit } = query;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`bad limit ${limit}`);
    if (after !== undefined && !CURSOR.test(after)) throw new RangeError(`bad cursor ${JSON.stringify(after)}`);
    const keep = status === undefined ? () => true : (op: Operation) => op.status === status;
    const items = this.index.scan(ep, after === undefined ? 0 : Number(after), keep, limit + 1);
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
   * QUEUED -> SENDING, attempt counted. Scheduled for writing but not awaited: the delivery does not pay
   * an fsync before each Leshan request. If the daemon dies before it is written, the file still says
   * QUEUED with one attempt fewer, and the operation is simply sent again (at-least-once either way).
   */
  markSending(id: string): Operation {
    this.writable();
    const op = this.mustGet(id);
    if (op.status !== 'QUEUED') throw new StoreConflictError(id, op.status, 'send');
    const at = this.iso();
    const next = this.put(op, { status: 'SENDING', attempts: op.attempts + 1, lastAttemptAt: at }, at);
    void this.writer.changed();
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
    const result = patch.result === undefined ? op.result : frozenJson(patch.result);
    const next = this.put(op, { status, attempts, result, error });
    await this.writer.changed();
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
    const removed = this.index.removeWhere((op) => FINAL_STATUSES.has(op.status) && Date.parse(op.updatedAt) < cutoff);
    if (removed > 0) await this.writer.changed();
    return removed;
  }

  /** Resolves once every change made so far is on disk. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Refuses further changes, then waits for the last write. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.db) await this.writer.flush();
  }

  /** File writes that reached the disk since open. */
  get writeCount(): number {
    return this.writer.writes;
  }

  /** Duration of the last file write, ms (serialisation, write, fsync, rename, directory fsync). */
  get lastWriteMs(): number {
    return this.writer.lastWriteMs;
  }

  get size(): number {
    return this.index.size;
  }

  private async fromQueued(id: string, status: OperationStatus, action: string): Promise<Operation> {
    this.writable();
    const op = this.mustGet(id);
    if (op.status !== 'QUEUED') throw new StoreConflictError(id, op.status, action);
    const next = this.put(op, { status });
    await this.writer.changed();
    return next;
  }

  /** Replaces `prev` by a frozen copy with `changes` (undefined removes a field) and a new updatedAt. */
  private put(prev: Operation, changes: Partial<Operation>, at = this.iso()): Operation {
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

  private writable(): StoreData {
    if (!this.db || this.closed) throw new StoreClosedError();
    return this.db.data;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

}

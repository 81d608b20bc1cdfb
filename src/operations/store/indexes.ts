import { OPERATION_STATUSES, type Operation, type OperationStatus } from '../operation.js';

/** First index in ascending `ids` whose value is greater than `id`. */
export function upperBound(ids: readonly number[], id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function indexOf(ids: readonly number[], id: number): number {
  const i = upperBound(ids, id) - 1;
  return i >= 0 && ids[i] === id ? i : -1;
}

function insertSorted(ids: number[], id: number): void {
  const i = upperBound(ids, id);
  if (ids[i - 1] !== id) ids.splice(i, 0, id);
}

function removeSorted(ids: number[], id: number): void {
  const i = indexOf(ids, id);
  if (i === 0) ids.shift();
  else if (i > 0) ids.splice(i, 1);
}

const idemKey = (ep: string, key: string): string => `${ep}\u0000${key}`;

/**
 * The in-memory indexes over the operations, all kept up to date on every change (nothing scans the whole
 * store except `prune`): by id, per endpoint (ascending ids), per endpoint FIFO of QUEUED ids, idempotency
 * keys, and counts by status. `ops` is the very array lowdb writes, kept in ascending id order; ids only
 * grow, so a new operation is always appended. An id is found by binary search in `ids` (beside `ops`):
 * no Map of every operation (at 100 000 stored, ~4 MiB of heap for 17 comparisons saved per lookup).
 */
export class OperationIndex {
  private readonly ids: number[] = [];
  private readonly byEp = new Map<string, number[]>();
  private readonly queued = new Map<string, number[]>();
  private readonly idem = new Map<string, number>();
  readonly counts = Object.fromEntries(OPERATION_STATUSES.map((s) => [s, 0])) as Record<OperationStatus, number>;

  /** `ops` must be in ascending id order, without duplicates. */
  constructor(readonly ops: Operation[]) {
    const all = ops.splice(0);
    for (const op of all) this.add(op);
  }

  get size(): number {
    return this.ops.length;
  }

  get lastId(): number {
    return this.ids[this.ids.length - 1] ?? 0;
  }

  get(id: number): Operation | undefined {
    const i = indexOf(this.ids, id);
    return i < 0 ? undefined : this.ops[i];
  }

  byIdempotencyKey(ep: string, key: string): Operation | undefined {
    const id = this.idem.get(idemKey(ep, key));
    return id === undefined ? undefined : this.get(id);
  }

  add(op: Operation): void {
    const id = Number(op.id);
    if (id <= this.lastId) throw new Error(`operation ${op.id} added out of order`);
    this.ops.push(op);
    this.ids.push(id);
    let mine = this.byEp.get(op.ep);
    if (!mine) this.byEp.set(op.ep, (mine = []));
    mine.push(id);
    if (op.idempotencyKey !== undefined) this.idem.set(idemKey(op.ep, op.idempotencyKey), id);
    this.counts[op.status]++;
    if (op.status === 'QUEUED') this.enqueue(op.ep, id);
  }

  /** Puts `next` in place of the operation with the same id (same ep). */
  replace(next: Operation): void {
    const id = Number(next.id);
    const at = indexOf(this.ids, id);
    if (at < 0) throw new Error(`operation ${next.id} not in the index`);
    const prev = this.ops[at]!;
    this.ops[at] = next;
    if (prev.status === next.status) return;
    this.counts[prev.status]--;
    this.counts[next.status]++;
    if (prev.status === 'QUEUED') this.dequeue(prev.ep, id);
    if (next.status === 'QUEUED') this.enqueue(next.ep, id);
  }

  /**
   * Puts back an operation removed by prune (undoing a change that could not be written): inserted at
   * its id's place. O(n): for that rare path only.
   */
  restore(op: Operation): void {
    const id = Number(op.id);
    if (indexOf(this.ids, id) >= 0) return this.replace(op);
    if (id > this.lastId) return this.add(op);
    const at = upperBound(this.ids, id);
    this.ids.splice(at, 0, id);
    this.ops.splice(at, 0, op);
    let mine = this.byEp.get(op.ep);
    if (!mine) this.byEp.set(op.ep, (mine = []));
    insertSorted(mine, id);
    if (op.idempotencyKey !== undefined) this.idem.set(idemKey(op.ep, op.idempotencyKey), id);
    this.counts[op.status]++;
    if (op.status === 'QUEUED') this.enqueue(op.ep, id);
  }

  /** Removes one operation (undoing a create that could not be written). */
  remove(id: number): void {
    const op = this.get(id);
    if (op) this.removeWhere((o) => o === op);
  }

  /** Removes every operation `drop` selects; returns how many. O(n): for the periodic prune only. */
  removeWhere(drop: (op: Operation) => boolean): number {
    let kept = 0;
    const gone = new Set<number>();
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i]!;
      if (drop(op)) {
        const id = this.ids[i]!;
        gone.add(id);
        this.counts[op.status]--;
        if (op.status === 'QUEUED') this.dequeue(op.ep, id);
        if (op.idempotencyKey !== undefined) this.idem.delete(idemKey(op.ep, op.idempotencyKey));
      } else {
        this.ops[kept] = op;
        this.ids[kept] = this.ids[i]!;
        kept++;
      }
    }
    if (gone.size === 0) return 0;
    this.ops.length = kept;
    this.ids.length = kept;
    for (const [ep, ids] of this.byEp) {
      const left = ids.filter((id) => !gone.has(id));
      if (left.length === 0) this.byEp.delete(ep);
      else this.byEp.set(ep, left);
    }
    return gone.size;
  }

  nextQueued(ep: string): Operation | undefined {
    const head = this.queued.get(ep)?.[0];
    return head === undefined ? undefined : this.get(head);
  }

  queuedCount(ep: string): number {
    return this.queued.get(ep)?.length ?? 0;
  }

  endpointsWithQueued(): string[] {
    return [...this.queued.keys()];
  }

  endpoints(): string[] {
    return [...this.byEp.keys()];
  }

  /**
   * Up to `max` operations that `keep` takes, after the id `after` in the order asked for: ascending ids from
   * just above `after` (0: from the first), or descending from just below it (0: from the last).
   */
  scan(ep: string | undefined, after: number, keep: (op: Operation) => boolean, max: number, newestFirst = false): Operation[] {
    const ids = ep === undefined ? this.ids : this.byEp.get(ep);
    const out: Operation[] = [];
    if (!ids) return out;
    // all ids: `ops` is beside them; one endpoint's: each looked up
    const at = ep === undefined ? (i: number) => this.ops[i]! : (i: number) => this.get(ids[i]!)!;
    if (newestFirst) {
      for (let i = (after === 0 ? ids.length : upperBound(ids, after - 1)) - 1; i >= 0 && out.length < max; i--) {
        const op = at(i);
        if (keep(op)) out.push(op);
      }
      return out;
    }
    for (let i = upperBound(ids, after); i < ids.length && out.length < max; i++) {
      const op = at(i);
      if (keep(op)) out.push(op);
    }
    return out;
  }

  private enqueue(ep: string, id: number): void {
    const q = this.queued.get(ep);
    if (!q) this.queued.set(ep, [id]);
    else if (id > q[q.length - 1]!) q.push(id);
    // Back to QUEUED after an attempt: it goes back where its id puts it (usually the head).
    else insertSorted(q, id);
  }

  private dequeue(ep: string, id: number): void {
    const q = this.queued.get(ep);
    if (!q) return;
    removeSorted(q, id);
    if (q.length === 0) this.queued.delete(ep);
  }
}

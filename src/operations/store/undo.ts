/**
 * The changes of the operation store not on disk yet, kept so that they can be put back: those made since
 * the write in flight started (pending) and those in it (in flight). A change is recorded before it is made,
 * with the entity as it was (null: it did not exist); the first record of an id in a group wins.
 */
import type { Operation } from '../operation.js';
import type { EntityTables, Entity, EntityKind } from './entities.js';
import type { OperationIndex } from './indexes.js';
import type { Change } from './persistence.js';

interface Group {
  /** The store's next id before the group's first create. */
  nextId: number;
  ops: Map<number, Operation | null>;
  /** Firmware updates and campaigns, by `<kind> <id>`. */
  entities: Map<string, { kind: EntityKind; id: string; prev: Entity | null }>;
}

const group = (nextId: number): Group => ({ nextId, ops: new Map(), entities: new Map() });
const sizeOf = (g: Group | undefined) => (g ? g.ops.size + g.entities.size : 0);

export class UndoLog {
  private pending: Group;
  private inFlight: Group | undefined;

  constructor(nextId: number) {
    this.pending = group(nextId);
  }

  /** Operation `id` is about to change; `prev` is what it is now (null: it is being created). */
  operation(id: number, prev: Operation | null): void {
    if (!this.pending.ops.has(id)) this.pending.ops.set(id, prev);
  }

  /** A firmware update or campaign is about to change; `prev` is what it is now (null: it is new). */
  entity(kind: EntityKind, id: string, prev: Entity | null): void {
    const key = `${kind} ${id}`;
    if (!this.pending.entities.has(key)) this.pending.entities.set(key, { kind, id, prev });
  }

  /** A write starts: what was pending is in flight; changes from now on form the next group. */
  startWrite(nextId: number): void {
    this.inFlight = this.pending;
    this.pending = group(nextId);
  }

  /** The journal records of the group in flight: each changed id as it is now (a `del` when it is gone). */
  changesInFlight(index: OperationIndex, entities: EntityTables): Change[] {
    const changes: Change[] = [];
    const g = this.inFlight;
    if (!g) return changes;
    for (const id of g.ops.keys()) {
      const op = index.get(id);
      changes.push(op ? { type: 'operation', put: op } : { type: 'operation', del: String(id) });
    }
    for (const { kind, id } of g.entities.values()) {
      const e = entities.get(kind, id);
      changes.push(e ? { type: kind, put: e } : { type: kind, del: id });
    }
    return changes;
  }

  /**
   * Puts back every change not on disk (the newest group first), so that memory is again what the files
   * hold; says which next id that leaves and how many entities were put back. Starts afresh.
   */
  undoAll(index: OperationIndex, entities: EntityTables, nextId: number): { nextId: number; undone: number } {
    for (const g of [this.pending, this.inFlight]) {
      if (!g) continue;
      for (const [id, prev] of g.ops) {
        if (prev === null) index.remove(id);
        else index.restore(prev);
      }
      for (const { kind, id, prev } of g.entities.values()) {
        if (prev === null) entities.delete(kind, id);
        else entities.set(kind, prev);
      }
      nextId = g.nextId;
    }
    const undone = sizeOf(this.pending) + sizeOf(this.inFlight);
    this.pending = group(nextId);
    this.inFlight = undefined;
    return { nextId, undone };
  }
}

/**
 * Where firmware updates are kept. `put` resolves once the update is durable (the file repository: on
 * disk); the memory one is for tests of the workflow alone.
 */
import type { FirmwareUpdate } from './update.js';

export interface FirmwareRepository {
  /** Takes the next id (an increasing integer as a decimal string). */
  takeId(): string;
  get(id: string): FirmwareUpdate | undefined;
  /** Every update, oldest first. */
  all(): FirmwareUpdate[];
  /** Stores the update (new or changed); resolves once it is durable. */
  put(update: FirmwareUpdate): Promise<void>;
}

export class MemoryFirmwareRepository implements FirmwareRepository {
  private readonly updates = new Map<string, FirmwareUpdate>();
  private nextId = 1;

  takeId(): string {
    return String(this.nextId++);
  }

  get(id: string): FirmwareUpdate | undefined {
    return this.updates.get(id);
  }

  all(): FirmwareUpdate[] {
    return [...this.updates.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  async put(update: FirmwareUpdate): Promise<void> {
    this.updates.set(update.id, update);
  }
}

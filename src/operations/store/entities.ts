/**
 * Records the store keeps beside operations, with the same journal and durability (docs/store.md): a
 * firmware update (`firmware`) and a firmware campaign (`firmwareCampaign`). The store does not read them:
 * each is a JSON object with a decimal `id`, frozen once stored; its own module (src/firmware/) gives it a type.
 */
import { deepFreeze, EMPTY_SECTION, type Entity, type EntitySection } from './storeFile.js';

export type { Entity, EntitySection };

export type EntityKind = 'firmware' | 'firmwareCampaign';
export const ENTITY_KINDS: ReadonlySet<string> = new Set<EntityKind>(['firmware', 'firmwareCampaign']);

const ENTITY_ID = /^[1-9][0-9]{0,14}$/;

/** The entity read from a file or a record, frozen, or the reason it cannot be one. */
export function checkEntity(raw: unknown): Entity | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const id = (raw as Record<string, unknown>).id;
  if (typeof id !== 'string' || !ENTITY_ID.test(id)) return `bad id ${JSON.stringify(id)}`;
  return deepFreeze(raw as Entity);
}

const ascending = (a: Entity, b: Entity) => Number(a.id) - Number(b.id);

/** The entities in memory, by kind and id, with each kind's next id. */
export class EntityTables {
  private readonly maps: Record<EntityKind, Map<string, Entity>> = { firmware: new Map(), firmwareCampaign: new Map() };
  private readonly nextIds: Record<EntityKind, number>;

  constructor(section: EntitySection = EMPTY_SECTION) {
    this.nextIds = { firmware: Math.max(1, section.nextId), firmwareCampaign: Math.max(1, section.nextCampaignId) };
    for (const e of section.updates) this.set('firmware', e);
    for (const e of section.campaigns) this.set('firmwareCampaign', e);
  }

  get(kind: EntityKind, id: string): Entity | undefined {
    return this.maps[kind].get(id);
  }

  /** Ascending ids. */
  all(kind: EntityKind): Entity[] {
    return [...this.maps[kind].values()].sort(ascending);
  }

  set(kind: EntityKind, entity: Entity): void {
    this.maps[kind].set(entity.id, entity);
    this.nextIds[kind] = Math.max(this.nextIds[kind], Number(entity.id) + 1);
  }

  delete(kind: EntityKind, id: string): void {
    this.maps[kind].delete(id);
  }

  takeId(kind: EntityKind): string {
    return String(this.nextIds[kind]++);
  }

  /** Ids below `next` are not handed out (a file imported, a damaged record's ids). */
  floor(kind: EntityKind, next: number): void {
    this.nextIds[kind] = Math.max(this.nextIds[kind], next);
  }

  /** For a snapshot: arrays of references (the entities are frozen). */
  section(): EntitySection {
    const { firmware, firmwareCampaign } = this.nextIds;
    return { nextId: firmware, nextCampaignId: firmwareCampaign, updates: this.all('firmware'), campaigns: this.all('firmwareCampaign') };
  }
}

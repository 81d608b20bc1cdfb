/**
 * Where firmware updates and campaigns are kept. `put` resolves once the update is durable (the daemon's
 * StoreFirmwareRepository: in the operation store's journal); the memory one is for tests of the workflow alone.
 */
import type { FirmwareCampaign, FirmwareUpdate } from './update.js';

export interface FirmwareRepository {
  /** Takes the next id (an increasing integer as a decimal string). */
  takeId(): string;
  get(id: string): FirmwareUpdate | undefined;
  /** Every update, oldest first. */
  all(): FirmwareUpdate[];
  /** Stores the update (new or changed); resolves once it is durable. */
  put(update: FirmwareUpdate): Promise<void>;
  takeCampaignId(): string;
  getCampaign(id: string): FirmwareCampaign | undefined;
  allCampaigns(): FirmwareCampaign[];
  /** Stores the campaign; resolves once it is durable. */
  putCampaign(campaign: FirmwareCampaign): Promise<void>;
  /** Removes an update (pruned); resolves once that is durable. */
  remove(id: string): Promise<void>;
  /** Removes a campaign (pruned); resolves once that is durable. */
  removeCampaign(id: string): Promise<void>;
}

const byId = <T extends { id: string }>(items: Iterable<T>): T[] => [...items].sort((a, b) => Number(a.id) - Number(b.id));

export class MemoryFirmwareRepository implements FirmwareRepository {
  private readonly updates = new Map<string, FirmwareUpdate>();
  private readonly campaigns = new Map<string, FirmwareCampaign>();
  private nextId = 1;
  private nextCampaignId = 1;

  takeId(): string {
    return String(this.nextId++);
  }

  get(id: string): FirmwareUpdate | undefined {
    return this.updates.get(id);
  }

  all(): FirmwareUpdate[] {
    return byId(this.updates.values());
  }

  async put(update: FirmwareUpdate): Promise<void> {
    this.updates.set(update.id, update);
  }

  takeCampaignId(): string {
    return String(this.nextCampaignId++);
  }

  getCampaign(id: string): FirmwareCampaign | undefined {
    return this.campaigns.get(id);
  }

  allCampaigns(): FirmwareCampaign[] {
    return byId(this.campaigns.values());
  }

  async putCampaign(campaign: FirmwareCampaign): Promise<void> {
    this.campaigns.set(campaign.id, campaign);
  }

  async remove(id: string): Promise<void> {
    this.updates.delete(id);
  }

  async removeCampaign(id: string): Promise<void> {
    this.campaigns.delete(id);
  }
}

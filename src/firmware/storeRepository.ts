/**
 * Firmware updates and campaigns kept in the operation store (docs/store.md): each change is a journal
 * record of its own type (`firmware`, `firmwareCampaign`), appended and fdatasync'd with the operations'
 * group before `put` resolves; compaction carries them into the snapshot. A failed write undoes the change
 * and `put` rejects with StoreUnavailableError.
 */
import { readFile, rename } from 'node:fs/promises';
import type { OperationStore } from '../operations/store.js';
import type { FirmwareRepository } from './repository.js';
import type { FirmwareCampaign, FirmwareUpdate } from './update.js';

export class StoreFirmwareRepository implements FirmwareRepository {
  constructor(private readonly store: OperationStore) {}

  takeId(): string {
    return this.store.takeEntityId('firmware');
  }

  get(id: string): FirmwareUpdate | undefined {
    return this.store.getEntity<FirmwareUpdate>('firmware', id);
  }

  all(): FirmwareUpdate[] {
    return this.store.allEntities<FirmwareUpdate>('firmware');
  }

  async put(update: FirmwareUpdate): Promise<void> {
    await this.store.putEntity('firmware', update);
  }

  takeCampaignId(): string {
    return this.store.takeEntityId('firmwareCampaign');
  }

  getCampaign(id: string): FirmwareCampaign | undefined {
    return this.store.getEntity<FirmwareCampaign>('firmwareCampaign', id);
  }

  allCampaigns(): FirmwareCampaign[] {
    return this.store.allEntities<FirmwareCampaign>('firmwareCampaign');
  }

  async putCampaign(campaign: FirmwareCampaign): Promise<void> {
    await this.store.putEntity('firmwareCampaign', campaign);
  }

  async remove(id: string): Promise<void> {
    await this.store.deleteEntity('firmware', id);
  }

  async removeCampaign(id: string): Promise<void> {
    await this.store.deleteEntity('firmwareCampaign', id);
  }
}

/** `dataDir/firmware.json` as the daemon wrote it before updates went to the store. */
interface FirmwareFile {
  version: 1;
  nextId: number;
  updates: FirmwareUpdate[];
  nextCampaignId?: number;
  campaigns?: FirmwareCampaign[];
}

/**
 * Moves a `firmware.json` left by an earlier build into the store (once on disk there, the file is renamed
 * `firmware.json.imported`); no file: nothing to do. A crash before the rename imports it again at the next
 * start, the same entries over themselves.
 * @returns how many updates and campaigns were imported
 * @throws when the file is there but not a firmware file (the daemon does not start on it silently)
 */
export async function importFirmwareFile(file: string, store: OperationStore): Promise<{ updates: number; campaigns: number } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const data = JSON.parse(text) as FirmwareFile | null;
  if (data?.version !== 1 || !Array.isArray(data.updates) || !(data.campaigns === undefined || Array.isArray(data.campaigns))) {
    throw new Error(`${file} is not a firmware update file of version 1`);
  }
  const campaigns = data.campaigns ?? [];
  store.entityIdFloor('firmware', Number(data.nextId) || 1);
  store.entityIdFloor('firmwareCampaign', Number(data.nextCampaignId) || 1);
  await Promise.all([
    ...data.updates.map((u) => store.putEntity('firmware', u)),
    ...campaigns.map((c) => store.putEntity('firmwareCampaign', c)),
  ]);
  await rename(file, `${file}.imported`);
  return { updates: data.updates.length, campaigns: campaigns.length };
}

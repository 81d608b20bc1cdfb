/**
 * Firmware updates in their own file (`dataDir/firmware.json`): the whole list rewritten through a
 * temporary file, fdatasync'd and renamed over the old one (the directory synced too) before a `put`
 * resolves. Changes made while a write is on its way go together in the next one. (The workflow's
 * records are few next to operations; docs/firmware.md says where they are meant to go: the operation
 * store's journal.)
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { MemoryFirmwareRepository } from './repository.js';
import type { FirmwareCampaign, FirmwareUpdate } from './update.js';

interface FileShape {
  version: 1;
  nextId: number;
  updates: FirmwareUpdate[];
  nextCampaignId?: number;
  campaigns?: FirmwareCampaign[];
}

export class FileFirmwareRepository extends MemoryFirmwareRepository {
  private writing: Promise<void> | undefined;
  private again: Promise<void> | undefined;

  constructor(private readonly file: string) {
    super();
  }

  /** Reads the file (none yet: empty). @throws when it is there but not a firmware file. */
  async open(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const data = JSON.parse(text) as FileShape;
    if (data.version !== 1 || !Array.isArray(data.updates)) throw new Error(`${this.file} is not a firmware update file of version 1`);
    this.nextId = Math.max(data.nextId, 1);
    for (const u of data.updates) {
      this.updates.set(u.id, u);
      this.nextId = Math.max(this.nextId, Number(u.id) + 1);
    }
    this.nextCampaignId = Math.max(data.nextCampaignId ?? 1, 1);
    for (const c of data.campaigns ?? []) {
      this.campaigns.set(c.id, c);
      this.nextCampaignId = Math.max(this.nextCampaignId, Number(c.id) + 1);
    }
  }

  override async put(update: FirmwareUpdate): Promise<void> {
    await super.put(update);
    return this.write();
  }

  override async putCampaign(campaign: FirmwareCampaign): Promise<void> {
    await super.putCampaign(campaign);
    return this.write();
  }

  /** Resolves once what is in memory now is on disk (one write at a time; the ones waiting share the next). */
  private write(): Promise<void> {
    if (!this.writing) {
      this.writing = this.writeNow().finally(() => (this.writing = undefined));
      return this.writing;
    }
    this.again ??= this.writing.then(
      () => ((this.again = undefined), this.write()),
      () => ((this.again = undefined), this.write()),
    );
    return this.again;
  }

  private async writeNow(): Promise<void> {
    const data: FileShape = {
      version: 1,
      nextId: this.nextId,
      updates: this.all(),
      nextCampaignId: this.nextCampaignId,
      campaigns: this.allCampaigns(),
    };
    const dir = path.dirname(this.file);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(data));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

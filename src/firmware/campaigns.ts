/**
 * Firmware campaigns: one update per device of a list (or of the endpoints matching `prefix*`), started
 * in order as slots free: at most `maxConcurrent` of the campaign's updates RUNNING at once (so never more
 * than that between the write of 5/0/1 and the check of 3/0/3). Each update is started with the
 * Idempotency-Key `campaign:<id>`, so that a restart between starting one and storing the campaign finds it.
 */
import type { LogSink } from '../log/logger.js';
import { errorFields } from '../log/errorText.js';
import { FirmwareConflictError, FirmwareEndedError, type FirmwareDriver } from './driver.js';
import type { FirmwareRepository } from './repository.js';
import { FIRMWARE_STATUSES, type FirmwareCampaign, type FirmwareStatus, type FirmwareUpdate } from './update.js';

export interface CreateCampaignInput {
  uri: string;
  version: string;
  maxConcurrent: number;
  endpoints: string[];
  match?: string;
}

/** The campaign is done (or cancelled already): there is nothing to cancel. */
export class CampaignEndedError extends Error {}

/**
 * A campaign as the API shows it: with its updates counted by status (`WAITING`: not started yet; for a
 * cancelled campaign, the devices it never started).
 */
export type CampaignView = Omit<FirmwareCampaign, 'started'> & {
  counts: Record<FirmwareStatus | 'WAITING' | 'SKIPPED', number>;
  done: boolean;
};

export class FirmwareCampaigns {
  /** Campaigns filling now: a second fill of one waits for the first. */
  private readonly filling = new Map<string, Promise<void>>();

  constructor(private readonly options: { repository: FirmwareRepository; driver: FirmwareDriver; now?: () => number; log: LogSink }) {}

  async create(input: CreateCampaignInput): Promise<CampaignView> {
    const { repository } = this.options;
    const at = new Date(this.now()).toISOString();
    const campaign: FirmwareCampaign = {
      id: repository.takeCampaignId(),
      uri: input.uri,
      version: input.version,
      maxConcurrent: input.maxConcurrent,
      endpoints: [...new Set(input.endpoints)],
      started: 0,
      skipped: [],
      ...(input.match !== undefined && { match: input.match }),
      createdAt: at,
      updatedAt: at,
    };
    await repository.putCampaign(campaign);
    await this.fill(campaign.id);
    return this.view(repository.getCampaign(campaign.id)!);
  }

  /** Starts the campaigns' next updates after a restart (and finishes a cancel a crash interrupted). */
  async resume(): Promise<void> {
    for (const c of this.options.repository.allCampaigns()) {
      if (c.cancelledAt !== undefined) await this.cancelRunning(c.id);
      else if (c.started < c.endpoints.length) await this.fill(c.id);
    }
  }

  /**
   * Cancels a campaign: no more of its updates are started, and those RUNNING are cancelled (as
   * `DELETE /api/firmware/{id}` does: an empty 5/0/1 at the next wake where a download may be under way).
   * The cancel is stored first, after any fill under way (which would otherwise store the campaign again
   * without it). Resolves with the campaign, or undefined when there is none.
   * @throws CampaignEndedError when it is done or cancelled already.
   */
  async cancel(id: string): Promise<CampaignView | undefined> {
    const { repository } = this.options;
    if (!repository.getCampaign(id)) return undefined;
    const cancelled = (this.filling.get(id) ?? Promise.resolve()).then(async () => {
      const campaign = repository.getCampaign(id)!;
      if (campaign.cancelledAt !== undefined) throw new CampaignEndedError(`firmware campaign ${id} is cancelled already`);
      if (this.view(campaign).done) throw new CampaignEndedError(`firmware campaign ${id} is done`);
      const at = new Date(this.now()).toISOString();
      await repository.putCampaign({ ...campaign, cancelledAt: at, updatedAt: at });
      await this.cancelRunning(id);
    });
    this.filling.set(
      id,
      cancelled.catch(() => undefined),
    );
    await cancelled;
    return this.view(repository.getCampaign(id)!);
  }

  /** An update changed: one of a campaign that ended frees a slot. */
  changed(update: FirmwareUpdate): void {
    if (update.campaignId !== undefined && update.status !== 'RUNNING') void this.fill(update.campaignId);
  }

  view(campaign: FirmwareCampaign): CampaignView {
    const counts = Object.fromEntries([...FIRMWARE_STATUSES, 'WAITING', 'SKIPPED'].map((s) => [s, 0])) as CampaignView['counts'];
    for (const u of this.updatesOf(campaign.id)) counts[u.status]++;
    counts.WAITING = campaign.endpoints.length - campaign.started;
    counts.SKIPPED = campaign.skipped.length;
    const { started: _started, ...rest } = campaign;
    const startsMore = counts.WAITING > 0 && campaign.cancelledAt === undefined;
    return { ...rest, counts, done: !startsMore && counts.RUNNING === 0 };
  }

  private fill(id: string): Promise<void> {
    const previous = this.filling.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => this.fillNow(id))
      .catch((err: unknown) => {
        this.options.log.error({ campaign: id, ...errorFields(err) }, 'firmware campaign: could not start updates');
      });
    this.filling.set(id, next);
    return next;
  }

  private async fillNow(id: string): Promise<void> {
    const { repository, driver } = this.options;
    let campaign = repository.getCampaign(id);
    if (!campaign || campaign.cancelledAt !== undefined) return;
    let running = this.updatesOf(id).filter((u) => u.status === 'RUNNING').length;
    while (campaign.started < campaign.endpoints.length && running < campaign.maxConcurrent) {
      const ep = campaign.endpoints[campaign.started]!;
      const skipped: FirmwareCampaign['skipped'] = [...campaign.skipped];
      try {
        const { update } = await driver.start({
          ep,
          uri: campaign.uri,
          version: campaign.version,
          idempotencyKey: `campaign:${id}`,
          campaignId: id,
        });
        if (update.status === 'RUNNING') running++;
      } catch (err) {
        if (!(err instanceof FirmwareConflictError)) throw err;
        skipped.push({ ep, runningId: err.runningId });
      }
      campaign = { ...campaign, started: campaign.started + 1, skipped, updatedAt: new Date(this.now()).toISOString() };
      await repository.putCampaign(campaign);
    }
  }

  private async cancelRunning(id: string): Promise<void> {
    for (const u of this.updatesOf(id)) {
      if (u.status !== 'RUNNING') continue;
      try {
        await this.options.driver.cancel(u.id);
      } catch (err) {
        if (!(err instanceof FirmwareEndedError)) throw err; // it ended meanwhile
      }
    }
  }

  private updatesOf(id: string): FirmwareUpdate[] {
    return this.options.repository.all().filter((u) => u.campaignId === id);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

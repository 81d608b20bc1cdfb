/**
 * Ended firmware updates are not kept for ever (the daemon runs for months; every campaign adds one update
 * per device): what ended before a cut-off goes, as finished operations do. Their steps stay in InfluxDB
 * (measurement `firmware`). A campaign goes with its updates, once it is done (every device started or the
 * campaign cancelled, none RUNNING) and it and all of them last changed before the cut-off; until then its updates stay (its counts
 * are made from them).
 */
import type { FirmwareRepository } from './repository.js';
import type { FirmwareUpdate } from './update.js';

const ended = (u: FirmwareUpdate) => u.status !== 'RUNNING';

/** Removes what ended before `cutoffMs` (epoch ms); says how many updates and campaigns went. */
export async function pruneFirmware(repository: FirmwareRepository, cutoffMs: number): Promise<{ updates: number; campaigns: number }> {
  const old = (at: string) => Date.parse(at) < cutoffMs;
  const byCampaign = new Map<string, FirmwareUpdate[]>();
  const gone: FirmwareUpdate[] = [];
  for (const u of repository.all()) {
    if (u.campaignId !== undefined && repository.getCampaign(u.campaignId)) {
      const list = byCampaign.get(u.campaignId);
      if (list) list.push(u);
      else byCampaign.set(u.campaignId, [u]);
    } else if (ended(u) && old(u.updatedAt)) gone.push(u);
  }
  const campaigns: string[] = [];
  for (const c of repository.allCampaigns()) {
    const updates = byCampaign.get(c.id) ?? [];
    const startsMore = c.started < c.endpoints.length && c.cancelledAt === undefined;
    if (startsMore || !old(c.updatedAt) || !updates.every((u) => ended(u) && old(u.updatedAt))) continue;
    gone.push(...updates);
    campaigns.push(c.id);
  }
  // one group of journal records; the updates first (a crash between leaves their campaign for the next prune)
  await Promise.all(gone.map((u) => repository.remove(u.id)));
  await Promise.all(campaigns.map((id) => repository.removeCampaign(id)));
  return { updates: gone.length, campaigns: campaigns.length };
}

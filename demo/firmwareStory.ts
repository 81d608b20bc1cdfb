/**
 * The demo's firmware story (after the example operation): one campaign over the fleet through the daemon's API,
 * narrated from both sides until every update ended: the devices (tools/firmwareDevices.ts: downloading at a wake,
 * installing on the execute, registering again on the new version) and the daemon (each update's step, the
 * campaign's counts by status).
 */
import type { FirmwareDeviceEvent } from '../tools/firmwareDevices.js';
import { sleep, type StopSignal } from './lifecycle.js';
import type { Narrator } from './narration.js';
import { FIRMWARE_URL } from './operationStory.js';

/** The version the devices run before the campaign, and the one the package at FIRMWARE_URL holds. */
export const OLD_VERSION = '2.0';
export const NEW_VERSION = '2.1';

/** Why the real clients get no campaign (tools/leshan-client: object 5 takes a URI and nothing more). */
export const REAL_SKIP =
  'no firmware campaign with the real clients: their object 5 takes a package URI but never downloads it (State 5/0/3 stays Idle) ' +
  'and they do not restart on a new version, so every update would wait in "downloading" until its timeout; run DEMO_LESHAN=double to see one';

interface UpdateView {
  id: string;
  ep: string;
  status: string;
  step: string;
  result?: string;
  campaignId?: string;
}

interface CampaignView {
  id: string;
  endpoints: string[];
  counts: Record<string, number>;
  done: boolean;
}

const STEPS: Record<string, string> = {
  observing: 'RUNNING: the daemon observes 5/0/3 and 5/0/5 (State, Update Result)',
  writing_uri: 'the daemon writes the package URI to 5/0/1',
  downloading: 'URI written: the daemon waits for the device to download it (5/0/3 Downloaded)',
  updating: 'downloaded: the daemon executes 5/0/2 (Update)',
  verifying: 'the device registered again: the daemon reads 3/0/3 (Firmware Version)',
};

const COUNTED = ['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'];

/** Starts the campaign (`start()`), follows it to its end, and says what the devices do (`device()`). */
export class FirmwareStory {
  private following: Promise<void> | undefined;
  private campaign: CampaignView | undefined;
  /** Devices whose download started after the campaign was created (the example operation's write starts one too). */
  private readonly downloading = new Set<string>();

  constructor(
    private readonly api: string,
    private readonly n: Narrator,
    private readonly stop: StopSignal,
    private readonly o: { match: string; maxConcurrent: number },
  ) {}

  /** "3 SUCCEEDED, 0 FAILED" once started (undefined before). */
  get outcome(): string | undefined {
    const c = this.campaign?.counts;
    if (!c) return undefined;
    return `${c.SUCCEEDED} SUCCEEDED, ${c.FAILED} FAILED${c.CANCELLED ? `, ${c.CANCELLED} CANCELLED` : ''}${this.campaign!.done ? '' : ', not ended'}`;
  }

  /** Resolves once following the campaign ended (at once if it was not started). */
  async settled(): Promise<void> {
    await this.following;
  }

  /** A device's object 5 changed. */
  device(e: FirmwareDeviceEvent): void {
    if (!this.campaign) return;
    switch (e.kind) {
      case 'downloading':
        this.downloading.add(e.ep);
        this.n.say(`${e.ep} got the package URI and starts downloading it (5/0/3 State: Downloading, notified)`);
        return;
      case 'downloaded':
        if (!this.downloading.delete(e.ep)) return; // the download of the example operation's URI, before the campaign
        this.n.say(`${e.ep} finished the download (5/0/3 State: Downloaded, notified)`);
        return;
      case 'stopped':
        this.n.say(`${e.ep} got an empty package URI: download stopped (5/0/3 State: Idle)`);
        return;
      case 'updating':
        this.n.say(`${e.ep} received the execute of 5/0/2: it installs the package and restarts`);
        return;
      case 'rebooted':
        this.n.say(`${e.ep} registered again with Leshan, now running firmware ${e.version} (3/0/3)`);
    }
  }

  /** Creates the campaign exactly as the curl line shows, then follows it. */
  async start(): Promise<void> {
    if (this.stop.stopping) return;
    const body = { uri: FIRMWARE_URL, version: NEW_VERSION, match: this.o.match, maxConcurrent: this.o.maxConcurrent };
    this.n.say(
      `now an operator updates the firmware of every ${this.o.match} device from ${OLD_VERSION} to ${NEW_VERSION}, ${this.o.maxConcurrent} at a time; the same as:`,
    );
    this.n.indented([
      `curl -sS -X POST ${this.api}/api/firmware/campaigns -H 'Content-Type: application/json' -d '${JSON.stringify(body)}'`,
    ]);
    let campaign: CampaignView;
    try {
      const res = await fetch(`${this.api}/api/firmware/campaigns`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      campaign = (await res.json()) as CampaignView;
      if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${JSON.stringify(campaign)}`);
    } catch (err) {
      if (!this.stop.stopping) this.n.say(`creating the campaign failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.campaign = campaign;
    this.n.say(
      `firmware campaign ${campaign.id} created: ${campaign.endpoints.length} devices; each update is a workflow over the device's wake-ups, ` +
        `its requests ordinary operations (Idempotency-Key firmware:<update>:<n>:<purpose>); follow it yourself:`,
    );
    this.n.indented(this.followLines(campaign.id));
    this.following = this.follow(campaign, Date.now());
  }

  private followLines(id: string): string[] {
    return [
      `curl -sS ${this.api}/api/firmware/campaigns/${id}                  # its updates counted by status`,
      `curl -sS '${this.api}/api/firmware?status=RUNNING'               # the updates under way, with their step`,
      `curl -sS '${this.api}/api/operations?status=QUEUED'              # their requests waiting for a wake-up`,
      `curl -sS -X DELETE ${this.api}/api/firmware/<update id>          # cancel one`,
    ];
  }

  private async follow(first: CampaignView, createdAt: number): Promise<void> {
    const steps = new Map<string, string>();
    let counted = '';
    let campaign = first;
    for (;;) {
      try {
        const list = (await (await fetch(`${this.api}/api/firmware?limit=1000`)).json()) as { items: UpdateView[] };
        for (const u of list.items) {
          if (u.campaignId !== campaign.id) continue;
          const now = u.status === 'RUNNING' ? u.step : u.status;
          if (steps.get(u.id) === now) continue;
          steps.set(u.id, now);
          this.n.say(`firmware update ${u.id} (${u.ep}): ${this.stepWords(u, now)}`);
        }
        // counted after the list: never behind the steps just said
        campaign = (await (await fetch(`${this.api}/api/firmware/campaigns/${campaign.id}`)).json()) as CampaignView;
        this.campaign = campaign;
      } catch {
        if (this.stop.stopping) return;
      }
      const counts = COUNTED.filter((s) => (campaign.counts[s] ?? 0) > 0 || s === 'SUCCEEDED')
        .map((s) => `${campaign.counts[s] ?? 0} ${s}`)
        .join(', ');
      if (counts !== counted) {
        counted = counts;
        this.n.say(`firmware campaign ${campaign.id}: ${counts}`);
      }
      if (campaign.done) {
        const s = ((Date.now() - createdAt) / 1000).toFixed(1);
        this.n.say(
          `firmware campaign ${campaign.id} ended after ${s} s: ${this.outcome} of ${campaign.endpoints.length} devices; see it yourself:`,
        );
        this.n.indented([`curl -sS ${this.api}/api/firmware/campaigns/${campaign.id}`, `curl -sS '${this.api}/api/firmware?limit=100'`]);
        return;
      }
      await sleep(250);
      if (this.stop.stopping) return;
    }
  }

  private stepWords(u: UpdateView, now: string): string {
    if (now === 'SUCCEEDED') return `SUCCEEDED: ${u.ep} runs ${NEW_VERSION}`;
    if (now === 'FAILED' || now === 'CANCELLED') return `${now}${u.result ? `: ${u.result}` : ''}`;
    return STEPS[now] ?? now;
  }
}

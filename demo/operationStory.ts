/** The demo's example operation: a firmware URL write queued for a sleeping device, followed to its end. */
import { sleep, type StopSignal } from './lifecycle.js';
import { curlQueue, type Narrator } from './narration.js';
import type { FleetStats } from './simulator.js';

/** What the story needs of the devices: the simulated fleet or the real clients (realFleet.ts). */
export interface StoryFleet {
  endpoints(): string[];
  stats(): FleetStats;
}

export const FIRMWARE_URL = 'https://example.com/firmware/demo-sensor-2.1.bin';

interface OperationView {
  id: string;
  status: string;
  attempts: number;
  error?: string;
  result?: { status?: string };
}

const FINAL = new Set(['CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED']);

/** Queues the operation through the daemon's API (`queue()`) and says each of its statuses. */
export class OperationStory {
  private target: string | undefined;
  private following: Promise<void> | undefined;
  private final: string | undefined;
  private last: string | undefined;

  constructor(
    private readonly api: string,
    private readonly fleet: StoryFleet,
    private readonly n: Narrator,
    private readonly stop: StopSignal,
    /** Real clients behind the stock Leshan, which counts a device awake for 93 s after its last message. */
    private readonly real = false,
  ) {}

  /** The operation's latest status (undefined before it was queued). */
  get status(): string | undefined {
    return this.last;
  }

  /** Whether `ep` is the operation's device and the operation has not ended yet. */
  waitsOn(ep: string): boolean {
    return ep === this.target && this.final === undefined;
  }

  /** Resolves once following the operation ended (at once if it was not queued). */
  async settled(): Promise<void> {
    await this.following;
  }

  /** Queues a firmware URL write for a sleeping device exactly as the curl line shows, then follows it. */
  async queue(): Promise<void> {
    if (this.stop.stopping) return;
    let target: string | undefined;
    try {
      const list = (await (await fetch(`${this.api}/api/endpoints?limit=1000`)).json()) as {
        items: { ep: string; state: string; registered: boolean }[];
      };
      // asleep for the daemon and for the simulator; the one that fell asleep last, so that it visibly waits
      const byDevice = this.fleet.stats().byDevice;
      // (with the real Leshan, the daemon may not know yet: Leshan itself learns it when a request times out)
      const asleep = list.items.filter((i) => i.registered && (this.real || i.state === 'offline') && byDevice[i.ep]?.awake === false);
      target = asleep.sort((a, b) => byDevice[b.ep]!.since - byDevice[a.ep]!.since)[0]?.ep;
    } catch {
      // the daemon is stopping
    }
    const body = { kind: 'write', path: '/5/0/1', value: FIRMWARE_URL };
    const ep = target ?? this.fleet.endpoints()[0]!;
    this.target = ep;
    this.n.say(
      `now an operator queues a firmware URL write (5/0/1) for ${ep}, which is ${target ? 'asleep' : 'awake (no device asleep right now)'}; the same as:`,
    );
    this.n.indented([curlQueue(this.api, ep, body)]);
    let op: OperationView;
    const queuedAt = Date.now();
    try {
      const res = await fetch(`${this.api}/api/endpoints/${ep}/operations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      op = (await res.json()) as OperationView;
      if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${JSON.stringify(op)}`);
    } catch (err) {
      if (!this.stop.stopping) this.n.say(`queueing the operation failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.following = this.follow(op, ep, queuedAt);
  }

  private async follow(first: OperationView, ep: string, queuedAt: number): Promise<void> {
    const id = first.id;
    let last = { status: '', attempts: -1 };
    let op = first;
    for (;;) {
      if (op.status !== last.status || op.attempts !== last.attempts) {
        this.last = op.status;
        this.sayOperation(op, ep, queuedAt, last.status);
        last = { status: op.status, attempts: op.attempts };
      }
      if (FINAL.has(op.status)) {
        this.final = op.status;
        this.n.say(`see it yourself: curl -sS ${this.api}/api/operations/${id}`);
        return;
      }
      await sleep(50);
      if (this.stop.stopping) return;
      try {
        op = (await (await fetch(`${this.api}/api/operations/${id}`)).json()) as OperationView;
      } catch {
        if (this.stop.stopping) return;
      }
    }
  }

  private sayOperation(op: OperationView, ep: string, queuedAt: number, previous: string): void {
    const name = `operation ${op.id}`;
    const after = `${((Date.now() - queuedAt) / 1000).toFixed(1)} s after it was queued`;
    switch (op.status) {
      case 'QUEUED':
        if (previous === '' && this.real) {
          this.n.say(`${name} is QUEUED: on disk; the daemon sends it while Leshan counts ${ep} as awake, else at its next wake-up`);
        } else if (previous === '') {
          this.n.say(`${name} is QUEUED: ${ep} is asleep, so the daemon keeps it (on disk) until Leshan says ${ep} is awake`);
        } else {
          this.n.say(
            `${name} is QUEUED again: ${op.error ?? 'not delivered'}${/attempt/.test(op.error ?? '') ? '' : ` (attempt ${op.attempts} used)`}; it waits for the next wake-up`,
          );
        }
        return;
      case 'SENDING':
        if (this.real && op.attempts === 1) {
          this.n.say(
            `${name} is SENDING: Leshan still counts ${ep} as awake (the stock server does for 93 s after a device's last message), so the daemon sends the write now (attempt 1)`,
          );
          return;
        }
        this.n.say(`${name} is SENDING: ${ep} is awake, the daemon sends the write through Leshan's REST API (attempt ${op.attempts})`);
        return;
      case 'CONFIRMED':
        this.n.say(`${name} is CONFIRMED: ${ep} answered ${op.result?.status ?? 'success'}, ${after}`);
        return;
      default:
        this.n.say(`${name} is ${op.status}${op.error ? `: ${op.error}` : ''}, ${after}`);
    }
  }
}

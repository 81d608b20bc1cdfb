/**
 * The demo's devices when it runs the real Leshan (DEMO_LESHAN=real): real LwM2M clients on Leshan's client library
 * (tools/leshan-client/LeshanTestClient.java through tools/realLeshan.ts), registered in queue mode with Leshan's
 * demo server, each with a temperature sensor (3303/0/5700, a random walk that notifies every 2 s while observed).
 *
 * Each device cycles like the simulated ones: awake for about `awakeMs`, then asleep for about `asleepMs` (jittered),
 * then it wakes with a registration update (Leshan: AWAKE + UPDATED). Asleep means stopped (SIGSTOP: it answers
 * nothing, like a radio switched off). The stock demo server keeps a queue-mode device awake for 93 s after each
 * message and cannot be told otherwise (docs/leshan-demo.md §5), so Leshan learns that a device sleeps when a request
 * to it times out. A write or execute that reaches a device is told as an `operation` (its `written`/`executed` line).
 */
import { startRealLeshanClient, type ClientEvent, type RealLeshanClient, type RealLeshanServer } from '../tools/realLeshan.js';
import type { DeviceStats, FleetEvent, FleetStats } from './simulator.js';

export interface RealFleetOptions {
  devices: number;
  awakeMs: number;
  asleepMs: number;
  namePrefix?: string;
  random?: () => number;
  onActivity?: (line: string, event: FleetEvent) => void;
}

interface Device {
  ep: string;
  client: RealLeshanClient | undefined;
  awake: boolean;
  since: number;
  updates: number;
  operations: number;
  timer: NodeJS.Timeout | undefined;
  /** Index in client.events of the first line not yet looked at. */
  seen: number;
}

/** The objects each client registers with (LeshanTestClient). */
export const REAL_OBJECT_LINKS: readonly string[] = ['/1/0', '/3/0', '/5/0', '/3303/0'];

export class RealFleet {
  private readonly devices = new Map<string, Device>();
  private readonly random: () => number;
  private running = false;
  private scanTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: RealLeshanServer,
    private readonly o: RealFleetOptions,
  ) {
    this.random = o.random ?? Math.random;
    for (let i = 1; i <= o.devices; i++) {
      const ep = `${o.namePrefix ?? 'demo-sensor-'}${String(i).padStart(2, '0')}`;
      this.devices.set(ep, { ep, client: undefined, awake: false, since: 0, updates: 0, operations: 0, timer: undefined, seen: 0 });
    }
  }

  endpoints(): string[] {
    return [...this.devices.keys()];
  }

  /** Starts every client (in parallel) and resolves once Leshan lists them all; then the cycles begin. */
  async start(): Promise<void> {
    this.running = true;
    const started = await Promise.allSettled(
      [...this.devices.values()].map(async (d) => {
        d.client = await startRealLeshanClient(this.server, { endpoint: d.ep, queueMode: true, lifetime: 300, timeoutMs: 60_000 });
        d.awake = true;
        d.since = Date.now();
      }),
    );
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const d of this.devices.values()) {
      if (!this.running) return;
      this.schedule(d, this.o.awakeMs * (0.3 + 0.7 * this.random()), () => this.sleep(d));
    }
    this.scanTimer = setInterval(() => this.scan(), 100);
  }

  /** Stops the cycles and deregisters every client (a sleeping one is woken first); resolves once all exited. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.scanTimer);
    for (const d of this.devices.values()) clearTimeout(d.timer);
    this.scan();
    await Promise.all(
      [...this.devices.values()].map(async (d) => {
        d.client?.resume();
        await d.client?.stop(5000);
      }),
    );
  }

  stats(): FleetStats {
    this.scan();
    const byDevice: Record<string, DeviceStats> = {};
    const total = { updates: 0, notifications: 0, operations: 0, awake: 0 };
    for (const d of this.devices.values()) {
      byDevice[d.ep] = {
        updates: d.updates,
        notifications: 0,
        operations: d.operations,
        awake: d.awake,
        since: d.since,
        temperature: Number.NaN,
        battery: Number.NaN,
      };
      total.updates += d.updates;
      total.operations += d.operations;
      if (d.awake) total.awake++;
    }
    return { devices: this.devices.size, ...total, byDevice };
  }

  private schedule(d: Device, ms: number, fn: () => void): void {
    d.timer = setTimeout(() => {
      if (this.running) fn();
    }, Math.round(ms));
  }

  private sleep(d: Device): void {
    d.client?.pause();
    d.awake = false;
    d.since = Date.now();
    this.tell(`${d.ep} fell asleep (stopped: it answers nothing until it wakes)`, { kind: 'sleep', ep: d.ep, at: d.since });
    this.schedule(d, this.o.asleepMs * (0.75 + 0.5 * this.random()), () => void this.wake(d));
  }

  private async wake(d: Device): Promise<void> {
    d.client?.resume();
    d.awake = true;
    d.since = Date.now();
    try {
      await d.client?.update(10_000);
    } catch {
      if (!this.running) return;
    }
    if (!this.running) return;
    d.updates++;
    this.tell(`${d.ep} woke up: registration update`, { kind: 'wake', ep: d.ep, at: Date.now(), temperature: Number.NaN });
    this.schedule(d, this.o.awakeMs * (0.85 + 0.3 * this.random()), () => this.sleep(d));
  }

  /** The clients' lines about requests that reached them. */
  private scan(): void {
    for (const d of this.devices.values()) {
      const events = d.client?.events ?? [];
      for (; d.seen < events.length; d.seen++) {
        const e: ClientEvent = events[d.seen]!;
        if (e.event !== 'written' && e.event !== 'executed') continue;
        d.operations++;
        const op = e.event === 'written' ? 'write' : 'execute';
        const path = String(e.path);
        const what = `${op} ${path}${e.event === 'written' ? ` = ${JSON.stringify(e.value)}` : ''}`;
        this.tell(`${d.ep} received ${what} from Leshan`, {
          kind: 'operation',
          ep: d.ep,
          at: Date.now(),
          op,
          path,
          ...(e.event === 'written' ? { value: e.value } : {}),
        });
      }
    }
  }

  private tell(line: string, event: FleetEvent): void {
    this.o.onActivity?.(line, event);
  }
}

/**
 * A fleet of simulated queue-mode LwM2M devices on top of the Leshan test double (tools/leshanDouble).
 *
 * Each device registers (object links /1/0, /3/0, /3303/0, /5/0) and reports a temperature, then cycles:
 * asleep for about `asleepMs`, then awake for about `awakeMs`: on waking it sends a registration update (Leshan
 * emits AWAKE and UPDATED), a temperature notification (3303/0/5700, a random walk around a per-device base) and
 * sometimes its battery level (3/0/9); then it goes to sleep (Leshan emits SLEEPING). Durations are jittered per
 * device and per cycle (the first sleep anywhere from 10 % to 125 % of `asleepMs`), so that devices do not all
 * wake at once. Requests that reach a device (through the
 * double's REST API) are answered after `latencyMs`, with the double's default answers.
 *
 * Silent unless `onActivity` is given, and nothing keeps running after `stop()`: benchmarks can use it.
 *
 * ```ts
 * const leshan = await startLeshanDouble();
 * const fleet = new FleetSimulator(leshan, { devices: 100, awakeMs: 500, asleepMs: 1000 });
 * fleet.start();
 * // … the daemon under test follows leshan.url …
 * fleet.stop();
 * console.log(fleet.stats());
 * await leshan.close();
 * ```
 */
import type { FirmwareDevices } from '../tools/firmwareDevices.js';
import type { LeshanDouble, RecordedRequest } from '../tools/leshanDouble.js';

export interface FleetSimulatorOptions {
  /** Number of devices (default 24), named `demo-sensor-01` … */
  devices?: number;
  /** How long a device stays awake after waking (default 4000 ms; each period jittered by ±15 %). */
  awakeMs?: number;
  /** How long a device sleeps (default 8000 ms; each period jittered by ±25 %). */
  asleepMs?: number;
  /** How long a device takes to answer a request that reaches it (default 150 ms). */
  latencyMs?: number;
  /** Endpoint name prefix (default `demo-sensor-`). */
  namePrefix?: string;
  /** Source of randomness in [0, 1) (default Math.random), for reproducible runs. */
  random?: () => number;
  /** Told of each happening, as a readable line and as a structured event. Nothing is printed without it. */
  onActivity?: (line: string, event: FleetEvent) => void;
  /** Object 5 of every device (tools/firmwareDevices.ts, with `downloadMs: 'next wake'` and `reboot` calling
   * this fleet's `reboot`): told of each device and each wake. Without it, object 5 answers the double's defaults. */
  firmware?: FirmwareDevices;
}

export type FleetEvent =
  | { kind: 'registered'; ep: string; at: number; temperature: number }
  | { kind: 'wake'; ep: string; at: number; temperature: number; battery?: number }
  | { kind: 'sleep'; ep: string; at: number }
  /** A request from Leshan reached the device (e.g. a write the daemon delivered). */
  | { kind: 'operation'; ep: string; at: number; op: string; path?: string; value?: unknown };

export interface DeviceStats {
  /** Registration updates sent. */
  updates: number;
  /** Notifications sent (temperature and battery each count one). */
  notifications: number;
  /** Requests from Leshan that reached the device (counted from the double's recorded requests, so 0 when the
   * double was started with `recordRequests: false`). */
  operations: number;
  awake: boolean;
  /** Date.now() when the device last woke up (or registered) or went to sleep. */
  since: number;
  /** Last temperature reported, °C. */
  temperature: number;
  /** Battery level, %. */
  battery: number;
}

export interface FleetStats {
  devices: number;
  updates: number;
  notifications: number;
  operations: number;
  /** Devices awake right now. */
  awake: number;
  byDevice: Record<string, DeviceStats>;
}

/** The object links each device registers with. */
export const OBJECT_LINKS: readonly string[] = ['/1/0', '/3/0', '/3303/0', '/5/0'];
export const TEMPERATURE_PATH = '/3303/0/5700';
export const BATTERY_PATH = '/3/0/9';

/** Probability that a wake-up also reports the battery level. */
const BATTERY_ODDS = 0.35;
/** How often requests recorded by the double are checked for ones that reached a device (a scan is incremental). */
const SCAN_EVERY_MS = 50;
/** A recorded request still unanswered after this long is skipped by the scan (it will never be answered). */
const SCAN_GIVE_UP_MS = 60_000;

interface Device {
  ep: string;
  awake: boolean;
  since: number;
  base: number;
  temperature: number;
  battery: number;
  updates: number;
  notifications: number;
  operations: number;
  timer: NodeJS.Timeout | undefined;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export class FleetSimulator {
  readonly awakeMs: number;
  readonly asleepMs: number;
  readonly latencyMs: number;
  private readonly random: () => number;
  private readonly onActivity: FleetSimulatorOptions['onActivity'];
  private readonly firmware: FirmwareDevices | undefined;
  private readonly devices = new Map<string, Device>();
  private running = false;
  private scanTimer: NodeJS.Timeout | undefined;
  /** Index in leshan.requests of the first request not yet accounted for. */
  private scanFrom = 0;

  constructor(
    private readonly leshan: LeshanDouble,
    options: FleetSimulatorOptions = {},
  ) {
    const count = options.devices ?? 24;
    this.awakeMs = options.awakeMs ?? 4000;
    this.asleepMs = options.asleepMs ?? 8000;
    this.latencyMs = options.latencyMs ?? 150;
    for (const [name, v] of [
      ['devices', count],
      ['awakeMs', this.awakeMs],
      ['asleepMs', this.asleepMs],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`FleetSimulator: ${name} must be a positive integer, got ${v}`);
    }
    if (!(this.latencyMs >= 0)) throw new RangeError(`FleetSimulator: latencyMs must be >= 0, got ${this.latencyMs}`);
    this.random = options.random ?? Math.random;
    this.onActivity = options.onActivity;
    this.firmware = options.firmware;
    const prefix = options.namePrefix ?? 'demo-sensor-';
    const width = Math.max(2, String(count).length);
    for (let i = 1; i <= count; i++) {
      const ep = `${prefix}${String(i).padStart(width, '0')}`;
      const base = 18 + this.random() * 6;
      this.devices.set(ep, {
        ep,
        awake: false,
        since: 0,
        base,
        temperature: round1(base),
        battery: 70 + Math.floor(this.random() * 31),
        updates: 0,
        notifications: 0,
        operations: 0,
        timer: undefined,
      });
    }
  }

  /** The endpoint names, in order. */
  endpoints(): string[] {
    return [...this.devices.keys()];
  }

  /** Whether the device is awake (as the simulator drives it; Leshan's view is `leshan.isAwake`). */
  isAwake(ep: string): boolean {
    return this.devices.get(ep)?.awake ?? false;
  }

  get started(): boolean {
    return this.running;
  }

  /**
   * Registers every device at once (each then reports a temperature and stays awake for a random part of
   * its awake time, which spreads the later wake-ups) and starts the cycles. Synchronous: the devices are
   * registered with the double when it returns.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scanFrom = this.leshan.requests.length;
    for (const d of this.devices.values()) {
      this.leshan.setLatency(d.ep, this.latencyMs);
      this.firmware?.add(d.ep);
      this.leshan.register({ endpoint: d.ep, queueMode: true, objectLinks: [...OBJECT_LINKS] });
      d.awake = true;
      d.since = Date.now();
      this.reportTemperature(d);
      this.tell(`${d.ep} registered with Leshan (objects ${OBJECT_LINKS.join(' ')}), temperature ${d.temperature.toFixed(1)} °C`, {
        kind: 'registered',
        ep: d.ep,
        at: Date.now(),
        temperature: d.temperature,
      });
      this.schedule(d, this.awakeMs * (0.3 + 0.7 * this.random()), () => this.sleep(d, true));
    }
    this.scanTimer = setInterval(() => this.scan(), SCAN_EVERY_MS);
  }

  /** Stops every cycle and timer. Devices stay registered with the double, in whatever presence they had. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const d of this.devices.values()) {
      clearTimeout(d.timer);
      d.timer = undefined;
    }
    clearInterval(this.scanTimer);
    this.scanTimer = undefined;
    this.scan();
  }

  stats(): FleetStats {
    this.scan();
    const byDevice: Record<string, DeviceStats> = {};
    const total = { updates: 0, notifications: 0, operations: 0, awake: 0 };
    for (const d of this.devices.values()) {
      byDevice[d.ep] = {
        updates: d.updates,
        notifications: d.notifications,
        operations: d.operations,
        awake: d.awake,
        since: d.since,
        temperature: d.temperature,
        battery: d.battery,
      };
      total.updates += d.updates;
      total.notifications += d.notifications;
      total.operations += d.operations;
      if (d.awake) total.awake++;
    }
    return { devices: this.devices.size, ...total, byDevice };
  }

  private schedule(d: Device, ms: number, fn: () => void): void {
    d.timer = setTimeout(
      () => {
        d.timer = undefined;
        if (this.running) fn();
      },
      Math.max(1, Math.round(ms)),
    );
  }

  private jitter(ms: number, spread: number): number {
    return ms * (1 - spread + 2 * spread * this.random());
  }

  private wake(d: Device): void {
    if (!this.leshan.isRegistered(d.ep)) {
      // someone deregistered it (or Leshan forgot it): register again, as a real device would
      this.leshan.register({ endpoint: d.ep, queueMode: true, objectLinks: [...OBJECT_LINKS] });
    } else {
      this.leshan.update(d.ep);
      d.updates++;
    }
    d.awake = true;
    d.since = Date.now();
    this.firmware?.woke(d.ep);
    this.reportTemperature(d);
    let battery: number | undefined;
    if (this.random() < BATTERY_ODDS) {
      if (this.random() < 0.4) d.battery = Math.max(0, d.battery - 1);
      battery = d.battery;
      this.leshan.notify(d.ep, BATTERY_PATH, { id: 9, kind: 'singleResource', type: 'INTEGER', value: battery });
      d.notifications++;
    }
    const batteryText = battery === undefined ? '' : `, battery ${battery} %`;
    this.tell(`${d.ep} woke up: registration update, temperature ${d.temperature.toFixed(1)} °C${batteryText}`, {
      kind: 'wake',
      ep: d.ep,
      at: Date.now(),
      temperature: d.temperature,
      ...(battery === undefined ? {} : { battery }),
    });
    this.schedule(d, this.jitter(this.awakeMs, 0.15), () => this.sleep(d));
  }

  /** The device restarted (on new firmware): it registers again and stays awake for about `awakeMs`. */
  reboot(ep: string): void {
    const d = this.devices.get(ep);
    if (!d || !this.running) return;
    clearTimeout(d.timer);
    this.leshan.register({ endpoint: d.ep, queueMode: true, objectLinks: [...OBJECT_LINKS] });
    d.awake = true;
    d.since = Date.now();
    this.schedule(d, this.jitter(this.awakeMs, 0.15), () => this.sleep(d));
  }

  /** The first sleep after registering lasts anywhere from 10 % to 125 % of asleepMs: wake-ups spread over a cycle. */
  private sleep(d: Device, first = false): void {
    if (this.leshan.isRegistered(d.ep)) this.leshan.sleep(d.ep);
    d.awake = false;
    d.since = Date.now();
    this.tell(`${d.ep} went to sleep`, { kind: 'sleep', ep: d.ep, at: Date.now() });
    const ms = first ? this.asleepMs * (0.1 + 1.15 * this.random()) : this.jitter(this.asleepMs, 0.25);
    this.schedule(d, ms, () => this.wake(d));
  }

  /** A random walk pulled back towards the device's base temperature, one decimal. */
  private reportTemperature(d: Device): void {
    const step = (this.random() - 0.5) * 0.8 + (d.base - d.temperature) * 0.2;
    d.temperature = round1(Math.min(35, Math.max(5, d.temperature + step)));
    this.leshan.notify(d.ep, TEMPERATURE_PATH, { id: 5700, kind: 'singleResource', type: 'FLOAT', value: d.temperature });
    d.notifications++;
  }

  /** Counts the requests recorded by the double that reached one of our devices since the last scan. */
  private scan(): void {
    const requests = this.leshan.requests;
    if (this.scanFrom > requests.length) this.scanFrom = requests.length; // clearRequests() was called
    const now = Date.now();
    while (this.scanFrom < requests.length) {
      const r = requests[this.scanFrom]!;
      // wait for a request still being routed: it may yet reach a device
      if (!r.delivered && r.status === undefined && now - r.at < SCAN_GIVE_UP_MS) break;
      this.scanFrom++;
      const d = r.delivered && r.ep !== undefined ? this.devices.get(r.ep) : undefined;
      if (d) this.received(d, r);
    }
  }

  private received(d: Device, r: RecordedRequest): void {
    d.operations++;
    const op = r.op ?? r.method;
    const value = op === 'write' && typeof r.json === 'object' && r.json !== null ? (r.json as { value?: unknown }).value : undefined;
    const what = `${op}${r.lwm2mPath ? ` ${r.lwm2mPath}` : ''}${value === undefined ? '' : ` = ${JSON.stringify(value)}`}`;
    this.tell(`${d.ep} received ${what} from Leshan`, {
      kind: 'operation',
      ep: d.ep,
      at: r.deliveredAt ?? r.at,
      op,
      ...(r.lwm2mPath ? { path: r.lwm2mPath } : {}),
      ...(value === undefined ? {} : { value }),
    });
  }

  private tell(line: string, event: FleetEvent): void {
    this.onActivity?.(line, event);
  }
}

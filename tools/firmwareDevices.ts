/**
 * The device side of LwM2M object 5 (Firmware Update) for devices behind the Leshan test double: what a device
 * does with the requests of the daemon's firmware workflow (docs/firmware.md). Used by the demo's simulated fleet
 * and by the firmware benchmark.
 *
 * - A write of a package URI to 5/0/1 that reaches the device starts the download: State 5/0/3 becomes 1
 *   (Downloading), told as a notification. The download ends `downloadMs` later, or at the device's next wake
 *   (`woke(ep)`) with `downloadMs: 'next wake'`: State 2 (Downloaded), told as a notification. An empty URI
 *   stops it (State 0, Idle).
 * - An execute of 5/0/2 on a Downloaded device is answered, then the device restarts on the new firmware: its
 *   3/0/3 (Firmware Version) becomes `newVersion(uri)`, State 0 and Update Result 5/0/5 1 (success), and it
 *   registers again (`reboot(ep)`).
 * - Every read or observe of 5/0/3, 5/0/5 or 3/0/3 that reaches it is answered with its current value.
 *
 * It needs every request the double records, as they arrive: pass `onRequest` to the double's `onRequest`
 * (the answer to a read is scripted there, before the double routes the request to the device).
 */
import type { LeshanDouble, RecordedRequest } from './leshanDouble.js';

export const FIRMWARE_STATES = ['Idle', 'Downloading', 'Downloaded', 'Updating'] as const;

export type FirmwareDeviceEvent =
  | { kind: 'downloading'; ep: string; uri: string }
  | { kind: 'downloaded'; ep: string }
  | { kind: 'stopped'; ep: string }
  | { kind: 'updating'; ep: string }
  | { kind: 'rebooted'; ep: string; version: string };

export interface FirmwareDevicesOptions {
  /** The firmware version (3/0/3) each device runs at first (default "1.0"). */
  version?: string;
  /** The version a device runs after installing the package at `uri`. */
  newVersion: (uri: string) => string;
  /** How long a download takes once the URI reached the device, or `'next wake'`: until `woke(ep)` (default 0). */
  downloadMs?: number | 'next wake';
  /** How the device tells a value (default: a NOTIFICATION through the double's event stream). */
  notify?: (ep: string, path: string, node: unknown) => unknown;
  /** The device restarting on its new firmware: it registers again. */
  reboot: (ep: string) => unknown;
  /** Told of each change of a device's firmware state. */
  onEvent?: (event: FirmwareDeviceEvent) => void;
}

interface Device {
  state: number;
  result: number;
  version: string;
  uri: string;
  downloadStarted: number;
}

interface Watched {
  ep: string;
  path: '/5/0/1' | '/5/0/2';
  request: RecordedRequest;
}

/** A request to one resource: GET (read), POST .../observe, PUT (write), POST (execute). */
const RESOURCE = /^\/api\/clients\/([^/]+)\/(\d+)\/(\d+)\/(\d+)(\/observe)?$/;
const CHECK_EVERY_MS = 20;

export class FirmwareDevices {
  private readonly devices = new Map<string, Device>();
  private watched: Watched[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly leshan: LeshanDouble,
    private readonly o: FirmwareDevicesOptions,
  ) {}

  /** The device `ep` has object 5 from now on. */
  add(ep: string): void {
    this.devices.set(ep, { state: 0, result: 0, version: this.o.version ?? '1.0', uri: '', downloadStarted: 0 });
    this.timer ??= setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  /** The firmware version `ep` runs (3/0/3). */
  version(ep: string): string | undefined {
    return this.devices.get(ep)?.version;
  }

  /** 5/0/3 of `ep` in words. */
  state(ep: string): (typeof FIRMWARE_STATES)[number] | undefined {
    const d = this.devices.get(ep);
    return d && FIRMWARE_STATES[d.state];
  }

  /** Every request the double records, when it arrives (the double's `onRequest`). */
  readonly onRequest = (r: RecordedRequest): void => {
    const m = RESOURCE.exec(r.path);
    if (!m) return;
    let ep: string;
    try {
      ep = decodeURIComponent(m[1]!);
    } catch {
      return;
    }
    const d = this.devices.get(ep);
    if (!d) return;
    const path = `/${m[2]}/${m[3]}/${m[4]}`;
    if ((r.method === 'GET' && !m[5]) || (r.method === 'POST' && m[5])) {
      // a sleeping device gets nothing (L15 answers 400 at once): no answer is left scripted for a later request
      const node = this.node(d, path);
      if (node !== undefined && this.leshan.isAwake(ep)) this.leshan.answer(ep, path, { kind: 'success', content: node });
    } else if ((r.method === 'PUT' && path === '/5/0/1') || (r.method === 'POST' && path === '/5/0/2')) {
      this.watched.push({ ep, path, request: r });
    }
  };

  /** The device woke up: a download waiting for it ends now. */
  woke(ep: string): void {
    const d = this.devices.get(ep);
    if (d?.state === 1 && this.o.downloadMs === 'next wake') this.downloaded(ep, d);
  }

  /** No timer left. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private node(d: Device, path: string): unknown {
    switch (path) {
      case '/5/0/3':
        return { id: 3, kind: 'singleResource', type: 'INTEGER', value: d.state };
      case '/5/0/5':
        return { id: 5, kind: 'singleResource', type: 'INTEGER', value: d.result };
      case '/3/0/3':
        return { id: 3, kind: 'singleResource', type: 'STRING', value: d.version };
      default:
        return undefined;
    }
  }

  private tell(ep: string, d: Device, path: '/5/0/3' | '/5/0/5'): void {
    const node = this.node(d, path);
    if (this.o.notify) void this.o.notify(ep, path, node);
    else this.leshan.notify(ep, path, node);
  }

  /** Writes and executes that reached their device (executes once answered); downloads that ended. */
  private check(): void {
    this.watched = this.watched.filter((w) => {
      const { request: r } = w;
      if (!r.delivered) return r.status === undefined; // refused (the device asleep): never reaches it
      if (w.path === '/5/0/1') {
        const value = typeof r.json === 'object' && r.json !== null ? (r.json as { value?: unknown }).value : undefined;
        this.written(w.ep, typeof value === 'string' ? value : '');
        return false;
      }
      if (r.status === undefined) return true;
      if (r.status === 200) this.executed(w.ep);
      return false;
    });
    const ms = this.o.downloadMs ?? 0;
    if (ms === 'next wake') return;
    const now = Date.now();
    for (const [ep, d] of this.devices) if (d.state === 1 && now - d.downloadStarted >= ms) this.downloaded(ep, d);
  }

  private written(ep: string, uri: string): void {
    const d = this.devices.get(ep)!;
    d.uri = uri;
    d.result = 0;
    if (uri === '') {
      d.state = 0;
      this.tell(ep, d, '/5/0/3');
      this.o.onEvent?.({ kind: 'stopped', ep });
      return;
    }
    d.state = 1;
    d.downloadStarted = Date.now();
    this.tell(ep, d, '/5/0/3');
    this.o.onEvent?.({ kind: 'downloading', ep, uri });
  }

  private downloaded(ep: string, d: Device): void {
    d.state = 2;
    this.tell(ep, d, '/5/0/3');
    this.o.onEvent?.({ kind: 'downloaded', ep });
  }

  private executed(ep: string): void {
    const d = this.devices.get(ep)!;
    if (d.state !== 2) return; // nothing to install
    d.state = 3;
    this.o.onEvent?.({ kind: 'updating', ep });
    d.version = this.o.newVersion(d.uri);
    d.state = 0;
    d.result = 1;
    d.uri = '';
    void this.o.reboot(ep);
    this.o.onEvent?.({ kind: 'rebooted', ep, version: d.version });
  }
}

// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * The simulated devices: scripted answers per (endpoint, LwM2M path), latency, timeouts, presence side effects
 * (QueueModeLwM2mRequestSender, §5.1) and LM's one-slot queue for sleeping clients (QueueHandler, §5.2).
 */
import { randomUUID } from 'node:crypto';
import type { EventHub } from './events.js';
import { parseLwPath, pathToString, type LwPath } from './java.js';
import { defaultNode } from './nodes.js';
import type { ClientState, Registry } from './registry.js';
import { responseObject, successCode } from './response.js';
import type { DeviceAnswer, DoubleOp, RecordedRequest } from './types.js';

export interface DeviceRequest {
  op: DoubleOp;
  /** Single-path operations: the target. */
  lwPath: LwPath | null;
  /** Composite operations: the normalised paths. */
  compositePaths?: string[];
  /** Answer lookup key: "/3/0/1", or the composite paths joined with ','. */
  key: string;
  /** Create: the instance id sent, or null when the device picks it. */
  createId?: number | null;
  /** Write: the content format Leshan encodes it in (`?format=`, else Leshan's default TLV). */
  format?: string;
  timeoutMs: number;
  record: RecordedRequest | undefined;
  /** Runs on a successful response (observation bookkeeping). */
  onSuccess?: () => void;
}

export type DeviceResult =
  { kind: 'response'; response: Record<string, unknown> } | { kind: 'timeout' } | { kind: 'error'; status: number; text: string };

interface Pending {
  timer: NodeJS.Timeout;
  settle: (r: DeviceResult) => void;
  coapUri: string;
}

interface Queued {
  dreq: DeviceRequest;
  requestId: string;
}

const SUCCESS: DeviceAnswer = { kind: 'success' };
const UNSUPPORTED_FORMAT: DeviceAnswer = { kind: 'deviceError', code: 415 };

/** CoAP Content-Format numbers of the formats a device can list in its root link (`ct`). */
const FORMAT_CODES: Record<string, number> = { CBOR: 60, SENML_JSON: 110, SENML_CBOR: 112, TLV: 11542, JSON: 11543 };

/**
 * Whether the device's registration says it cannot decode `format`: its root link lists formats (`ct`) and not
 * this one (TEXT, OPAQUE and LINK are mandatory, never listed). A real client answers 4.15 (docs/leshan-demo.md §6).
 */
function unsupportedFormat(s: ClientState, format: string | undefined): boolean {
  const code = format === undefined ? undefined : FORMAT_CODES[format];
  if (code === undefined) return false;
  const ct = s.links.find((l) => l.url === '/')?.attributes.ct;
  if (typeof ct !== 'string') return false;
  const listed = ct.replace(/"/g, '').split(/\s+/).filter(Boolean).map(Number);
  return listed.length > 0 && !listed.includes(code);
}

export class Devices {
  private readonly answers = new Map<string, Map<string, DeviceAnswer[]>>();
  private readonly latencies = new Map<string, number>();
  private readonly pending = new Map<ClientState, Set<Pending>>();
  private readonly queued = new Map<ClientState, Queued>();
  registry!: Registry;

  constructor(
    private defaultLatency: number,
    private readonly hub: EventHub,
  ) {}

  static normaliseKey(path: string): string {
    if (path === '*' || path.includes(',')) return path;
    try {
      return pathToString(parseLwPath(path));
    } catch {
      return path;
    }
  }

  script(ep: string, path: string, answers: DeviceAnswer[]): void {
    let byPath = this.answers.get(ep);
    if (!byPath) this.answers.set(ep, (byPath = new Map()));
    const key = Devices.normaliseKey(path);
    const q = byPath.get(key);
    if (q) q.push(...answers);
    else byPath.set(key, [...answers]);
  }

  setLatency(ep: string, ms: number): void {
    if (ep === '*') this.defaultLatency = ms;
    else this.latencies.set(ep, ms);
  }

  private take(ep: string, key: string): DeviceAnswer | undefined {
    const byPath = this.answers.get(ep);
    if (!byPath) return undefined;
    for (const k of [key, '*']) {
      const q = byPath.get(k);
      if (q && q.length > 0) {
        const a = q.shift();
        if (q.length === 0) byPath.delete(k);
        return a;
      }
    }
    return undefined;
  }

  /** Scripted answer: endpoint+path, endpoint+'*', '*'+path, '*'+'*', else success. */
  private nextAnswer(ep: string, key: string): DeviceAnswer {
    return this.take(ep, key) ?? this.take('*', key) ?? SUCCESS;
  }

  /** Send a request to an awake (or non-queue-mode) device and wait for its answer or the timeout. */
  send(s: ClientState, dreq: DeviceRequest): Promise<DeviceResult> {
    if (dreq.record) {
      dreq.record.delivered = true;
      dreq.record.deliveredAt = Date.now();
    }
    const answer = unsupportedFormat(s, dreq.format) ? UNSUPPORTED_FORMAT : this.nextAnswer(s.endpoint, dreq.key);
    const latency = this.latencies.get(s.endpoint) ?? this.defaultLatency;
    const coapUri = `coap://${s.address}${dreq.lwPath ? pathToString(dreq.lwPath) : ''}`;
    const timesOut = answer.kind === 'timeout' || latency >= dreq.timeoutMs;
    const delay = timesOut ? Math.max(0, dreq.timeoutMs) : latency;
    const outcome = (): DeviceResult => (timesOut ? this.timedOut(s) : this.answered(s, dreq, answer, coapUri));
    if (delay <= 0) return Promise.resolve(outcome());
    return new Promise((resolve) => {
      let set = this.pending.get(s);
      if (!set) this.pending.set(s, (set = new Set()));
      const p: Pending = {
        coapUri,
        settle: (r) => {
          clearTimeout(p.timer);
          set.delete(p);
          if (set.size === 0) this.pending.delete(s);
          resolve(r);
        },
        timer: setTimeout(() => p.settle(outcome()), delay),
      };
      set.add(p);
    });
  }

  private timedOut(s: ClientState): DeviceResult {
    this.registry.setSleeping(s);
    return { kind: 'timeout' };
  }

  private answered(s: ClientState, dreq: DeviceRequest, a: DeviceAnswer, coapUri: string): DeviceResult {
    switch (a.kind) {
      case 'rst':
        return { kind: 'error', status: 500, text: `Request rejected: ${a.message ?? `Request ${coapUri} rejected`}` };
      case 'cancelled':
        return { kind: 'error', status: 500, text: `Request cancelled: ${a.message ?? `Request ${coapUri} cancelled`}` };
      case 'sendFailure':
        if (a.unconnected) this.registry.setSleeping(s);
        return { kind: 'error', status: 500, text: `Unexpected exception: ${a.message ?? `Request ${coapUri} cannot be sent`}` };
      case 'deviceError':
        this.registry.setAwake(s);
        return { kind: 'response', response: responseObject(dreq.op, a.code, { errormessage: a.errormessage }) };
      case 'timeout':
        return this.timedOut(s);
      default:
        this.registry.setAwake(s);
        dreq.onSuccess?.();
        return { kind: 'response', response: responseObject(dreq.op, successCode(dreq.op), this.content(s, dreq, a)) };
    }
  }

  /** What a successful answer carries: content, objectLinks or location (§4). */
  private content(s: ClientState, dreq: DeviceRequest, a: { content?: unknown }) {
    const given = 'content' in a;
    const path = dreq.lwPath ?? [];
    switch (dreq.op) {
      case 'read':
      case 'observe':
      case 'cancelObserve':
        return { content: given ? a.content : defaultNode(path) };
      case 'readComposite':
      case 'observeComposite':
      case 'cancelObserveComposite': {
        if (given) return { content: a.content };
        const map: Record<string, unknown> = {};
        for (const p of dreq.compositePaths ?? []) map[p] = defaultNode(parseLwPath(p));
        return { content: map };
      }
      case 'discover': {
        if (given) return { objectLinks: a.content };
        const url = pathToString(path);
        const links = [{ url, attributes: {} }];
        if (path.length === 1) {
          for (const l of s.links) if (l.url.startsWith(`${url}/`)) links.push({ url: l.url, attributes: {} });
        }
        return { objectLinks: links };
      }
      case 'create': {
        if (given) return { location: typeof a.content === 'string' ? a.content : null };
        const o = path[0] ?? 0;
        let id = dreq.createId ?? null;
        if (id === null) {
          id = s.nextInstance.get(o) ?? 0;
          for (const l of s.links) {
            const m = new RegExp(`^/${o}/(\\d+)$`).exec(l.url);
            if (m) id = Math.max(id, Number(m[1]) + 1);
          }
        }
        s.nextInstance.set(o, Math.max(s.nextInstance.get(o) ?? 0, id + 1));
        return { location: `${o}/${id}` };
      }
      default:
        return {};
    }
  }

  /** LM: keep only the newest request per registration; the older one silently never answers. */
  enqueue(s: ClientState, dreq: DeviceRequest): string {
    const requestId = randomUUID();
    this.queued.set(s, { dreq, requestId });
    return requestId;
  }

  /** LM QueueHandler.onAwake: send the stored request; only a response (not a timeout) raises REQUEST_RESPONSE. */
  flush(s: ClientState): void {
    const q = this.queued.get(s);
    if (!q) return;
    this.queued.delete(s);
    void this.send(s, q.dreq).then((r) => {
      if (r.kind !== 'response' || !this.hub.listening(s.endpoint)) return;
      const path = q.dreq.lwPath ? `"path":${JSON.stringify(pathToString(q.dreq.lwPath))},` : '';
      const data =
        `{"ep":${JSON.stringify(s.endpoint)},${path}"requestId":"${q.requestId}",` +
        `"response":${JSON.stringify(r.response)},"delayed":true}`;
      this.hub.send('REQUEST_RESPONSE', data, s.endpoint);
    });
  }

  /** Deregistration: ongoing requests are cancelled (500 "Request cancelled"), the LM queue slot dropped. */
  unregistered(s: ClientState): void {
    this.queued.delete(s);
    const set = this.pending.get(s);
    if (!set) return;
    for (const p of [...set]) {
      p.settle({ kind: 'error', status: 500, text: `Request cancelled: Request ${p.coapUri} cancelled` });
    }
  }

  dispose(): void {
    for (const set of this.pending.values()) for (const p of set) clearTimeout(p.timer);
    this.pending.clear();
    this.queued.clear();
  }
}

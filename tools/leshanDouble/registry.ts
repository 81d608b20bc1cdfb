// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * Registrations, their JSON (§6) and queue-mode presence (§5.1), with the events they raise (§5.3).
 * Listener order follows Leshan: PresenceStateListener is added when the server is built, before the demo's
 * EventServlet, so a queue-mode client's AWAKE comes before its REGISTRATION or UPDATED event.
 */
import { randomBytes } from 'node:crypto';
import type { EventHub } from './events.js';
import type { DoubleClient, DoubleUpdate } from './types.js';

export interface Link {
  url: string;
  attributes: Record<string, string | null>;
}

export interface ClientState {
  endpoint: string;
  regId: string;
  registrationDate: number;
  lastUpdate: number;
  address: string;
  smsNumber?: string;
  lwM2mVersion: '1.0' | '1.1';
  lifetime: number;
  bindingMode: string;
  links: Link[];
  secure: boolean;
  additional: Record<string, string>;
  queueMode: boolean;
  awake: boolean;
  awakeTimer: NodeJS.Timeout | null;
  observations: Set<string>;
  compositeObservations: Set<string>;
  /** Next instance id the device picks on a create without id, per object. */
  nextInstance: Map<number, number>;
  /** Registered = still the current state object for its endpoint. */
  registered: boolean;
}

export interface RegistryHooks {
  /** A queue-mode client went from sleeping to awake (LM flushes its queued request here). */
  onAwake(s: ClientState): void;
  /** The registration is gone (explicit deregistration or replaced by a new one). */
  onUnregistered(s: ClientState): void;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
let pool = Buffer.alloc(0);
let poolAt = 0;

/** A 10-character alphanumeric id, like Leshan's RandomStringRegistrationIdProvider (random bytes drawn in bulk). */
function regIdOf(): string {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(4000);
    poolAt = 0;
  }
  let id = '';
  for (let i = 0; i < 10; i++) id += ALNUM[(pool[poolAt++] ?? 0) % ALNUM.length];
  return id;
}

/** "/3/0" or CoRE link text `</3/0>;ver=1.1`. Attribute values stay CoRE text (quotes kept), valueless → null. */
function parseLink(s: string): Link {
  if (!s.startsWith('<')) return { url: s, attributes: {} };
  const end = s.indexOf('>');
  const attributes: Record<string, string | null> = {};
  for (const part of s.substring(end + 1).split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === -1) attributes[part] = null;
    else attributes[part.substring(0, eq)] = part.substring(eq + 1);
  }
  return { url: s.substring(1, end), attributes };
}

function linksOf(c: { lwM2mVersion: '1.0' | '1.1' }, objectLinks: string[]): Link[] {
  const links = objectLinks.map(parseLink);
  if (!links.some((l) => l.url === '/')) {
    const root: Record<string, string> = { rt: '"oma.lwm2m"' };
    // what a real 1.1 client built on Leshan's library (2.0.0-M18) lists: every format it has but the mandatory ones
    if (c.lwM2mVersion === '1.1') root.ct = '"60 110 112 11542 11543"';
    links.unshift({ url: '/', attributes: root });
  }
  return links;
}

/** Object id → sorted instance ids, from the /o/i links (a TreeMap of TreeSets in Leshan). */
export function availableInstances(links: Link[]): Record<string, number[]> {
  const map = new Map<number, Set<number>>();
  for (const l of links) {
    const m = /^\/(\d+)\/(\d+)$/.exec(l.url);
    if (!m) continue;
    const o = Number(m[1]);
    let set = map.get(o);
    if (!set) map.set(o, (set = new Set()));
    set.add(Number(m[2]));
  }
  const out: Record<string, number[]> = {};
  for (const o of [...map.keys()].sort((a, b) => a - b)) out[o] = [...(map.get(o) ?? [])].sort((a, b) => a - b);
  return out;
}

let addressSeq = 0;

export class Registry {
  private readonly clients = new Map<string, ClientState>();

  constructor(
    private readonly hub: EventHub,
    private readonly awakeMs: number,
    private readonly hooks: RegistryHooks,
  ) {}

  get(ep: string): ClientState | undefined {
    return this.clients.get(ep);
  }

  all(): IterableIterator<ClientState> {
    return this.clients.values();
  }

  mustGet(ep: string): ClientState {
    const s = this.clients.get(ep);
    if (!s) throw new Error(`leshanDouble: no registered client '${ep}'`);
    return s;
  }

  /** JacksonRegistrationSerializer field order; `sleeping` only for queue mode. */
  registrationObject(s: ClientState): Record<string, unknown> {
    const o: Record<string, unknown> = {
      endpoint: s.endpoint,
      registrationId: s.regId,
      registrationDate: s.registrationDate,
      lastUpdate: s.lastUpdate,
      address: s.address,
    };
    if (s.smsNumber !== undefined) o.smsNumber = s.smsNumber;
    o.lwM2mVersion = s.lwM2mVersion;
    o.lifetime = s.lifetime;
    o.bindingMode = s.bindingMode;
    o.rootPath = '/';
    o.objectLinks = s.links;
    o.secure = s.secure;
    o.additionalRegistrationAttributes = s.additional;
    o.queuemode = s.queueMode;
    o.availableInstances = availableInstances(s.links);
    if (s.queueMode) o.sleeping = !s.awake;
    return o;
  }

  registrationJson(s: ClientState): string {
    return JSON.stringify(this.registrationObject(s));
  }

  private emit(event: string, ep: string, data: () => string): void {
    if (this.hub.listening(ep)) this.hub.send(event, data(), ep);
  }

  register(c: DoubleClient): ClientState {
    const previous = this.clients.get(c.endpoint);
    // A re-registration replaces the old one: Leshan fires unregistered(old) then registered(new).
    if (previous) this.remove(previous);
    const now = Date.now();
    const lwM2mVersion = c.lwM2mVersion ?? '1.1';
    const s: ClientState = {
      endpoint: c.endpoint,
      regId: regIdOf(),
      registrationDate: now,
      lastUpdate: now,
      address: c.address ?? `127.0.0.1:${40000 + (addressSeq++ % 20000)}`,
      lwM2mVersion,
      lifetime: c.lifetime ?? 86400,
      bindingMode: c.bindingMode ?? (c.queueMode && lwM2mVersion === '1.0' ? 'UQ' : 'U'),
      links: linksOf({ lwM2mVersion }, c.objectLinks ?? ['/1/0', '/3/0']),
      secure: c.secure ?? false,
      additional: { ...(c.additionalRegistrationAttributes ?? {}) },
      queueMode: c.queueMode,
      awake: false,
      awakeTimer: null,
      observations: new Set(),
      compositeObservations: new Set(),
      nextInstance: new Map(),
      registered: true,
    };
    if (c.smsNumber !== undefined) s.smsNumber = c.smsNumber;
    this.clients.set(c.endpoint, s);
    this.setAwake(s);
    this.emit('REGISTRATION', s.endpoint, () => this.registrationJson(s));
    return s;
  }

  update(ep: string, changes: DoubleUpdate = {}): void {
    const s = this.mustGet(ep);
    s.lastUpdate = Date.now();
    const update: Record<string, unknown> = { registrationId: s.regId };
    if (changes.address !== undefined) s.address = changes.address;
    update.address = s.address;
    if (changes.smsNumber !== undefined) update.smsNumber = s.smsNumber = changes.smsNumber;
    if (changes.lifetime !== undefined) update.lifetime = s.lifetime = changes.lifetime;
    if (changes.objectLinks !== undefined) {
      s.links = linksOf(s, changes.objectLinks);
      update.objectLinks = s.links;
    }
    update.secure = s.secure;
    update.additionalAttributes = {};
    this.setAwake(s);
    this.emit('UPDATED', ep, () => `{"registration":${this.registrationJson(s)},"update":${JSON.stringify(update)}}`);
  }

  deregister(ep: string): void {
    this.remove(this.mustGet(ep));
  }

  private remove(s: ClientState): void {
    this.clients.delete(s.endpoint);
    s.registered = false;
    // stopPresenceTracking: no SLEEPING event.
    if (s.awakeTimer) clearTimeout(s.awakeTimer);
    s.awakeTimer = null;
    s.awake = false;
    this.emit('DEREGISTRATION', s.endpoint, () => this.registrationJson(s));
    this.hooks.onUnregistered(s);
  }

  /** PresenceServiceImpl.setAwake: (re)start the awake timer; AWAKE only on a transition. */
  setAwake(s: ClientState): void {
    if (!s.queueMode || !s.registered) return;
    if (s.awake) {
      s.awakeTimer?.refresh();
      return;
    }
    s.awake = true;
    if (this.awakeMs > 0) {
      s.awakeTimer = setTimeout(() => {
        s.awakeTimer = null;
        this.setSleeping(s);
      }, this.awakeMs);
      s.awakeTimer.unref();
    }
    this.emit('AWAKE', s.endpoint, () => JSON.stringify({ ep: s.endpoint }));
    this.hooks.onAwake(s);
  }

  /** PresenceServiceImpl.setSleeping: SLEEPING only on a transition. */
  setSleeping(s: ClientState): void {
    if (!s.queueMode || !s.registered || !s.awake) return;
    if (s.awakeTimer) clearTimeout(s.awakeTimer);
    s.awakeTimer = null;
    s.awake = false;
    this.emit('SLEEPING', s.endpoint, () => JSON.stringify({ ep: s.endpoint }));
  }

  dispose(): void {
    for (const s of this.clients.values()) {
      if (s.awakeTimer) clearTimeout(s.awakeTimer);
      s.awakeTimer = null;
    }
  }
}

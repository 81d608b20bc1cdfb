import { Counter, type Registry as Metrics } from 'prom-client';
import { createActor, fromPromise, type Actor } from 'xstate';
import type { LogSink } from '../log/logger.js';
import {
  endpointMachine,
  type DeliveryOutput,
  type DormantEndpoint,
  type EndpointEvent,
  type EndpointState,
  type RegistrationEventType,
} from './endpointMachine.js';
import { errorFields } from '../log/errorText.js';

export interface RegistryOptions {
  awakeMs: number;
  retryMs: number;
  /** Whether the endpoint has a queued operation. */
  hasQueued(ep: string): boolean;
  /** Sends the endpoint's oldest queued operation and says how it went. */
  deliverNext(ep: string): Promise<DeliveryOutput>;
  log: LogSink;
  /** The clock for the machines' timers and for event times (xstate's SimulatedClock in tests). */
  clock?: Clock;
  /**
   * Most endpoints remembered at once (default: no limit). A new one past it makes room by forgetting the
   * longest-offline endpoint with nothing queued, else an awake one with nothing queued and nothing in
   * flight; endpoints with queued operations are never forgotten.
   */
  maxKnown?: number;
  /** An endpoint offline this long with nothing queued is forgotten (default: never). */
  forgetAfterMs?: number;
  /** Where the count of forgotten endpoints goes. */
  metrics?: Metrics;
}

export interface EndpointView {
  ep: string;
  state: EndpointState;
  registered: boolean;
  queueMode: boolean;
  /** Until when the endpoint is taken to be awake (ISO), while online or sending. */
  awakeUntil?: string;
  lastEvent?: { type: RegistrationEventType; at: string };
}

type EndpointActor = Actor<typeof endpointMachine>;

/** A timer source with the time: xstate's Clock (not exported by xstate) plus `now()`; SimulatedClock fits. */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  now(): number;
}

/**
 * Timers and a monotonic time: the wall clock at start plus the time elapsed since, so that a step of
 * the system clock (NTP, an operator's `date -s`) neither keeps endpoints awake nor closes their windows.
 */
const systemClock: Clock = {
  setTimeout: (fn: (...args: unknown[]) => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
  now: () => performance.timeOrigin + performance.now(),
};

/** How often endpoints offline for longer than forgetAfterMs are looked for (at most). */
const SWEEP_MS = 60_000;

/** A dormant endpoint and since when it has been dormant (ms, the registry's clock). */
type Dormant = DormantEndpoint & { since: number };

/**
 * One root XState actor per endpoint, in a Map (not spawned children of one parent: spawning is
 * quadratic in the number of children), created on first sight. An endpoint that is offline with
 * nothing running has no timer and no work: its actor is stopped and the endpoint kept as its few
 * remembered fields (`DormantEndpoint`), from which a fresh actor starts on its next event. A running
 * xstate actor costs about 5 KiB of heap, a dormant endpoint a few hundred bytes, and most endpoints
 * of a queue-mode fleet sleep most of the time. Each actor has an error observer: a failing actor is
 * logged and dropped (the endpoint starts afresh on its next event), never taking the daemon down.
 */
export class EndpointRegistry {
  private readonly actors = new Map<string, EndpointActor>();
  /** In the order they went dormant: the oldest first. */
  private readonly dormant = new Map<string, Dormant>();
  private readonly machine;
  private readonly clock: Clock;
  private readonly forgotten: Counter<'reason'>;
  private sweepTimer: unknown;
  private lastOverLimitWarning = -Infinity;
  private stopped = false;

  constructor(private readonly options: RegistryOptions) {
    this.clock = options.clock ?? systemClock;
    this.forgotten = new Counter({
      name: 'lwm2m_backend_endpoints_forgotten_total',
      help: 'Endpoints forgotten: offline longer than endpoints.forgetAfterMs (idle), or to stay within endpoints.maxKnown (limit)',
      labelNames: ['reason'],
      registers: options.metrics ? [options.metrics] : [],
    });
    if (options.forgetAfterMs !== undefined) this.scheduleSweep();
    this.machine = endpointMachine.provide({
      guards: { hasQueued: ({ context }) => options.hasQueued(context.ep) },
      actors: { deliverNext: fromPromise<DeliveryOutput, { ep: string }>(({ input }) => options.deliverNext(input.ep)) },
    });
  }

  /** The current time of the registry's clock (ms). */
  now(): number {
    return this.clock.now();
  }

  /** `queueMode` with a registration, when the source knows it (Leshan's event stream does). */
  registrationEvent(ep: string, type: RegistrationEventType, queueMode?: boolean): void {
    const at = this.now();
    if (type === 'registered')
      this.send(ep, queueMode === undefined ? { type: 'endpoint.registered', at } : { type: 'endpoint.registered', at, queueMode });
    else this.send(ep, { type: `endpoint.${type}`, at });
  }

  /** Leshan's presence events (event stream): exact, where the awake window is a guess. */
  presence(ep: string, awake: boolean): void {
    this.send(ep, { type: awake ? 'endpoint.awake' : 'endpoint.sleeping', at: this.now() });
  }

  /**
   * What Leshan's registration list says (after the event stream reconnected, events may have been missed):
   * registered or not, queue mode, and whether it is awake now.
   */
  reconcile(ep: string, state: { registered: boolean; queueMode: boolean; awake: boolean }): void {
    this.send(ep, { type: 'endpoint.reconciled', at: this.now(), ...state });
  }

  /** Endpoints taken to be registered (for reconciling with Leshan's list). */
  registeredEndpoints(): string[] {
    const out: string[] = [];
    for (const [ep, actor] of this.actors) if (actor.getSnapshot().context.registered) out.push(ep);
    for (const [ep, dormant] of this.dormant) if (dormant.registered) out.push(ep);
    return out;
  }

  /** An operation was queued: an awake endpoint sends it at once. */
  workQueued(ep: string): void {
    this.send(ep, { type: 'endpoint.work', at: this.now() });
  }

  has(ep: string): boolean {
    return this.actors.has(ep) || this.dormant.has(ep);
  }

  view(ep: string): EndpointView | undefined {
    const actor = this.actors.get(ep);
    if (actor) {
      const snapshot = actor.getSnapshot();
      return toView(ep, stateOf(snapshot.value), snapshot.context);
    }
    const dormant = this.dormant.get(ep);
    return dormant ? toView(ep, 'offline', dormant) : undefined;
  }

  /** Every known endpoint, by name. */
  list(): EndpointView[] {
    return [...this.actors.keys(), ...this.dormant.keys()].sort().map((ep) => this.view(ep)!);
  }

  countsByState(): Record<EndpointState, number> {
    const counts: Record<EndpointState, number> = { offline: this.dormant.size, online: 0, sending: 0 };
    for (const actor of this.actors.values()) counts[stateOf(actor.getSnapshot().value)]++;
    return counts;
  }

  get size(): number {
    return this.actors.size + this.dormant.size;
  }

  /** Running actors (endpoints online, sending, or just gone offline). */
  get running(): number {
    return this.actors.size;
  }

  /** Stops every actor (a delivery in flight finishes on its own; its result is no longer acted on). */
  stop(): void {
    this.stopped = true;
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    for (const actor of this.actors.values()) actor.stop();
    this.actors.clear();
  }

  private send(ep: string, event: EndpointEvent): void {
    if (this.stopped) return;
    let actor = this.actors.get(ep);
    if (!actor) {
      const remembered = this.dormant.get(ep);
      if (remembered) this.dormant.delete(ep);
      else this.makeRoom();
      actor = this.createActor(ep, remembered);
      this.actors.set(ep, actor);
    }
    actor.send(event);
  }

  /** Past maxKnown, forgets one endpoint that nothing waits for: the longest offline, else an idle awake one. */
  private makeRoom(): void {
    const max = this.options.maxKnown;
    if (max === undefined || this.size < max) return;
    for (const ep of this.dormant.keys()) {
      if (this.options.hasQueued(ep)) continue;
      this.dormant.delete(ep);
      this.forgotten.inc({ reason: 'limit' });
      return;
    }
    for (const [ep, actor] of this.actors) {
      const snapshot = actor.getSnapshot();
      if (stateOf(snapshot.value) === 'sending' || this.options.hasQueued(ep)) continue;
      this.actors.delete(ep);
      actor.stop();
      this.forgotten.inc({ reason: 'limit' });
      return;
    }
    const now = this.now();
    if (now - this.lastOverLimitWarning > SWEEP_MS) {
      this.lastOverLimitWarning = now;
      this.options.log.warn(
        { known: this.size, maxKnown: max },
        'more endpoints with queued operations than endpoints.maxKnown: keeping them all',
      );
    }
  }

  private scheduleSweep(): void {
    const every = Math.min(SWEEP_MS, this.options.forgetAfterMs!);
    this.sweepTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      this.forgetIdle();
      this.scheduleSweep();
    }, every);
    // the system clock's timer must not keep the process alive on its own
    (this.sweepTimer as { unref?: () => void }).unref?.();
  }

  /** Forgets the endpoints dormant for longer than forgetAfterMs with nothing queued. */
  private forgetIdle(): void {
    const cutoff = this.now() - this.options.forgetAfterMs!;
    for (const [ep, dormant] of this.dormant) {
      if (dormant.since > cutoff) break; // in the order they went dormant
      if (this.options.hasQueued(ep)) continue;
      this.dormant.delete(ep);
      this.forgotten.inc({ reason: 'idle' });
    }
  }

  private createActor(ep: string, remembered: Dormant | undefined): EndpointActor {
    const { since: _since, ...fields } = remembered ?? { since: 0 };
    const actor = createActor(this.machine, {
      input: { ep, awakeMs: this.options.awakeMs, retryMs: this.options.retryMs, ...fields },
      clock: this.clock,
    });
    let hibernating = false;
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.value !== 'offline' || hibernating) return;
        hibernating = true;
        // after the current transition has finished, and only if nothing woke it meanwhile
        queueMicrotask(() => {
          hibernating = false;
          if (this.stopped || this.actors.get(ep) !== actor || actor.getSnapshot().value !== 'offline') return;
          const { registered, queueMode, lastEvent } = actor.getSnapshot().context;
          const since = this.now();
          this.dormant.set(ep, lastEvent ? { registered, queueMode, lastEvent, since } : { registered, queueMode, since });
          this.actors.delete(ep);
          actor.stop();
        });
      },
      error: (err) => {
        this.options.log.error({ ep, ...errorFields(err, { stack: true }) }, 'endpoint actor failed; it starts afresh on its next event');
        if (this.actors.get(ep) === actor) this.actors.delete(ep);
      },
    });
    return actor.start();
  }
}

function stateOf(value: unknown): EndpointState {
  if (value === 'offline' || value === 'sending') return value;
  return 'online'; // { online: 'idle' | 'backoff' }
}

function toView(ep: string, state: EndpointState, context: DormantEndpoint & { awakeUntil?: number }): EndpointView {
  const view: EndpointView = { ep, state, registered: context.registered, queueMode: context.queueMode };
  if (state !== 'offline' && context.awakeUntil !== undefined) view.awakeUntil = new Date(context.awakeUntil).toISOString();
  if (context.lastEvent) view.lastEvent = { type: context.lastEvent.type, at: new Date(context.lastEvent.at).toISOString() };
  return view;
}

/**
 * One endpoint's presence and delivery state: `offline`, `online` (awake, nothing being sent) or `sending`
 * (one operation on its way through Leshan). Pure: the machine names its effects - the `hasQueued` guard
 * and the `deliverNext` actor - and the registry supplies them at wiring time (fakes in tests).
 *
 * Time comes in with the events (`at`, ms), never from a clock read here, so that tests can drive it with
 * a SimulatedClock. The awake window is an absolute deadline in context (`awakeUntil`): a registration
 * update extends it even while sending, and the `after` delay is recomputed from it on every entry.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { RegistrationEvent } from '../lwm2m/registrationObject.js';

/** The registration lifecycle (object 10240's events). */
export type RegistrationEventType = RegistrationEvent;

export type EndpointEvent =
  /** `queueMode` when known (Leshan's event stream says; the forked Leshan's posts do not): false = always reachable. */
  | { type: 'endpoint.registered'; at: number; queueMode?: boolean }
  | { type: 'endpoint.updated'; at: number }
  | { type: 'endpoint.deregistered'; at: number }
  /** Leshan's AWAKE event: awake now (the window stays as the fallback should SLEEPING never come). */
  | { type: 'endpoint.awake'; at: number }
  /** Leshan's SLEEPING event: asleep now. */
  | { type: 'endpoint.sleeping'; at: number }
  /** What Leshan's registration list says after the event stream (re)connected: it may have missed events. */
  | { type: 'endpoint.reconciled'; at: number; registered: boolean; queueMode: boolean; awake: boolean }
  /** An operation was queued for the endpoint. */
  | { type: 'endpoint.work'; at: number };

/** What one delivery step came to. */
export type DeliveryResult =
  /** an operation was settled (whatever its outcome): look for the next one */
  | 'delivered'
  /** nothing was queued */
  | 'idle'
  /** the device did not take it (timeout, sleeping, not registered): wait for its next wake */
  | 'asleep'
  /** Leshan did not answer at all: try again after a pause, while the window lasts */
  | 'unreachable';

export interface DeliveryOutput {
  result: DeliveryResult;
  at: number;
  /** The device itself answered (success or a device error): Leshan restarts its awake timer then. */
  answered?: boolean;
}

/** What an offline endpoint is remembered by when its actor is not running (see EndpointRegistry). */
export interface DormantEndpoint {
  registered: boolean;
  /** Queue mode (LwM2M): reachable only while awake. Without it, a registered device is always reachable. */
  queueMode: boolean;
  lastEvent?: { type: RegistrationEventType; at: number };
}

export interface EndpointInput extends Partial<DormantEndpoint> {
  ep: string;
  awakeMs: number;
  /** Pause before retrying when Leshan was unreachable. */
  retryMs: number;
}

export interface EndpointContext extends Omit<EndpointInput, keyof DormantEndpoint>, DormantEndpoint {
  /** Until when the device is taken to be awake (ms). */
  awakeUntil: number;
  /** The time of the latest event (ms): the reference for the delays. */
  now: number;
  /** A wake-up arrived while an operation was being sent: a 'did not take it' answer is then stale. */
  wokeWhileSending: boolean;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Whether the endpoint can be reached at `at`: inside its window, or registered without queue mode. */
const isAwake = (context: EndpointContext, at: number): boolean => at < context.awakeUntil || (context.registered && !context.queueMode);

export const endpointMachine = setup({
  types: {
    context: {} as EndpointContext,
    events: {} as EndpointEvent,
    input: {} as EndpointInput,
  },
  actions: {
    /** Awake from the event's time for awakeMs (never shortening a later deadline). */
    wake: assign(({ context, event }) => ({ now: event.at, awakeUntil: Math.max(context.awakeUntil, event.at + context.awakeMs) })),
    /** The window closes now. */
    sleep: assign(({ event }) => ({ now: event.at, awakeUntil: event.at })),
    markWoke: assign({ wokeWhileSending: true }),
    recordRegistration: assign(({ context, event }) => {
      const type: RegistrationEventType =
        event.type === 'endpoint.registered' ? 'registered' : event.type === 'endpoint.updated' ? 'updated' : 'deregistered';
      const queueMode = event.type === 'endpoint.registered' && event.queueMode !== undefined ? event.queueMode : context.queueMode;
      return { lastEvent: { type, at: event.at }, registered: type !== 'deregistered', queueMode };
    }),
    reconcile: assign(({ event }) => {
      if (event.type !== 'endpoint.reconciled') return {};
      return { registered: event.registered, queueMode: event.queueMode, now: event.at };
    }),
    /** A send starts: no wake-up seen during it yet. */
    clearWoke: assign({ wokeWhileSending: false }),
    /** A delivery step ended at `at`: the reference time for the delays. */
    noteTime: assign((_, params: { at: number }) => ({ now: params.at })),
    /** The device answered at `at`: awake for awakeMs from then (Leshan restarts its awake timer on an answer). */
    wakeOnAnswer: assign(({ context }, params: { at: number }) => ({
      now: params.at,
      awakeUntil: Math.max(context.awakeUntil, params.at + context.awakeMs),
    })),
    /** The device did not take the request at `at`: taken as asleep from then on. */
    closeWindowAt: assign((_, params: { at: number }) => ({ now: params.at, awakeUntil: params.at })),
  },
  guards: {
    /** Whether the endpoint has an operation waiting (supplied at wiring time). */
    hasQueued: () => false,
    /** A registered endpoint without queue mode: its window never closes. */
    alwaysReachable: ({ context }) => context.registered && !context.queueMode,
    awakeNow: ({ event }) => event.type === 'endpoint.reconciled' && event.registered && event.awake,
    /** Leshan's SLEEPING applies only in queue mode. */
    inQueueMode: ({ context }) => context.queueMode,
    /** The device itself answered: it is awake. */
    deviceAnswered: (_, params: DeliveryOutput) => params.answered === true,
    /** The device did not take it, and no wake-up came while it was sent: the answer is current. */
    answeredAsleep: ({ context }, params: DeliveryOutput) => params.result === 'asleep' && !context.wokeWhileSending,
    /** Leshan did not answer, and the device is still awake: try again after a pause. */
    unreachableWhileAwake: ({ context }, params: DeliveryOutput) => params.result === 'unreachable' && isAwake(context, params.at),
    /** The device is still awake when the step ended: look for the next operation. */
    stillAwake: ({ context }, params: DeliveryOutput) => isAwake(context, params.at),
  },
  actors: {
    /** Sends the endpoint's oldest queued operation (supplied at wiring time). */
    deliverNext: fromPromise<DeliveryOutput, { ep: string }>(async () => ({ result: 'idle', at: 0 })),
  },
  delays: {
    // capped: Node fires longer timers at once; an always-reachable endpoint just re-arms it
    awakeLeft: ({ context }) => Math.min(MAX_TIMER_MS, Math.max(0, context.awakeUntil - context.now)),
    retry: ({ context }) => context.retryMs,
  },
}).createMachine({
  id: 'endpoint',
  context: ({ input }) => ({ registered: false, queueMode: true, ...input, awakeUntil: 0, now: 0, wokeWhileSending: false }),
  initial: 'offline',
  states: {
    offline: {
      on: {
        'endpoint.registered': { target: 'online', actions: ['recordRegistration', 'wake'] },
        'endpoint.updated': { target: 'online', actions: ['recordRegistration', 'wake'] },
        'endpoint.awake': { target: 'online', actions: 'wake' },
        'endpoint.deregistered': { actions: 'recordRegistration' },
        'endpoint.reconciled': [{ guard: 'awakeNow', target: 'online', actions: ['reconcile', 'wake'] }, { actions: 'reconcile' }],
      },
    },
    online: {
      initial: 'idle',
      after: {
        awakeLeft: [{ guard: 'alwaysReachable', target: 'online', reenter: true }, { target: 'offline' }],
      },
      on: {
        // re-entering restarts the awake timer from the new deadline
        'endpoint.registered': { target: 'online', reenter: true, actions: ['recordRegistration', 'wake'] },
        'endpoint.updated': { target: 'online', reenter: true, actions: ['recordRegistration', 'wake'] },
        'endpoint.awake': { target: 'online', reenter: true, actions: 'wake' },
        'endpoint.sleeping': { guard: 'inQueueMode', target: 'offline', actions: 'sleep' },
        'endpoint.deregistered': { target: 'offline', actions: ['recordRegistration', 'sleep'] },
        'endpoint.reconciled': [
          { guard: 'awakeNow', target: 'online', reenter: true, actions: ['reconcile', 'wake'] },
          { target: 'offline', actions: ['reconcile', 'sleep'] },
        ],
      },
      states: {
        idle: {
          always: { guard: 'hasQueued', target: '#endpoint.sending' },
          on: { 'endpoint.work': { guard: 'hasQueued', target: '#endpoint.sending' } },
        },
        backoff: {
          after: { retry: 'idle' },
        },
      },
    },
    sending: {
      entry: 'clearWoke',
      invoke: {
        src: 'deliverNext',
        input: ({ context }) => ({ ep: context.ep }),
        // (a wake-up newer than the request beats the request's "asleep": the device is awake now)
        onDone: [
          {
            guard: { type: 'deviceAnswered', params: ({ event }) => event.output },
            target: 'online',
            actions: { type: 'wakeOnAnswer', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'answeredAsleep', params: ({ event }) => event.output },
            target: 'offline',
            actions: { type: 'closeWindowAt', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'unreachableWhileAwake', params: ({ event }) => event.output },
            target: 'online.backoff',
            actions: { type: 'noteTime', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'stillAwake', params: ({ event }) => event.output },
            target: 'online',
            actions: { type: 'noteTime', params: ({ event }) => event.output },
          },
          { target: 'offline', actions: { type: 'noteTime', params: ({ event }) => event.output } },
        ],
        // a failing delivery step must not wedge the endpoint: pause, then look again
        onError: { target: 'online.backoff' },
      },
      on: {
        // one operation at a time: the request in flight finishes first, the window moves meanwhile
        'endpoint.registered': { actions: ['recordRegistration', 'wake', 'markWoke'] },
        'endpoint.updated': { actions: ['recordRegistration', 'wake', 'markWoke'] },
        'endpoint.awake': { actions: ['wake', 'markWoke'] },
        'endpoint.sleeping': { guard: 'inQueueMode', actions: 'sleep' },
        'endpoint.deregistered': { actions: ['recordRegistration', 'sleep'] },
        'endpoint.reconciled': [{ guard: 'awakeNow', actions: ['reconcile', 'wake', 'markWoke'] }, { actions: ['reconcile', 'sleep'] }],
      },
    },
  },
});

export type EndpointMachine = typeof endpointMachine;
/** The state names shown to operators. */
export type EndpointState = 'offline' | 'online' | 'sending';

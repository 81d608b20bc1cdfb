/**
 * One firmware update as an XState machine (docs/firmware.md). Pure: it names the requests it wants
 * made on the device (emitted `request` events, each an operation for the driver to queue) and is told
 * what became of them and what the device reported; it reads no clock (the overall timeout is an `after`
 * computed from `deadline - now`, both given as input, so tests drive it with a SimulatedClock).
 *
 * A step's entry makes its request unless one is pending: entering again after a restart (the `resume`
 * state jumps to the stored step) re-emits the pending request with its number, which the driver turns
 * into the same operation (the Idempotency-Key is built from it), never a second one.
 */
import { assign, emit, enqueueActions, setup } from 'xstate';
import { isFailureResult, resultInWords, RETRYABLE_RESULTS, STATE_DOWNLOADED, STATE_IDLE } from './codes.js';
import type { FirmwareProgress, FirmwareRequestPurpose, FirmwareStatus, FirmwareStep, PendingRequest } from './update.js';

export interface FirmwareMachineInput {
  step: FirmwareStep;
  attempts: number;
  progress: FirmwareProgress;
  version: string;
  /** When the update times out (ms since the epoch). */
  deadline: number;
  /** Now (ms since the epoch): the timeout fires `deadline - now` after the actor starts. */
  now: number;
  /** Downloads after the first one, for a result that may be retried (connection lost, integrity). */
  maxRetries: number;
}

export interface FirmwareContext extends Omit<FirmwareMachineInput, 'now'> {
  startedAt: number;
  status: FirmwareStatus;
  result?: string;
}

export type FirmwareEvent =
  /** The pending request's operation ended: CONFIRMED (ok), or not; `deviceAnswered`: the device itself refused it. */
  | { type: 'fw.op'; seq: number; ok: boolean; deviceAnswered?: boolean; error?: string }
  /** A value of 5/0/3 (State), 5/0/5 (Update Result) or 3/0/3 (Firmware Version), read or notified. */
  | { type: 'fw.state'; value: number }
  | { type: 'fw.result'; value: number }
  | { type: 'fw.version'; value: string }
  /** The device registered (anew: after a reboot), or woke up (a registration update, Leshan's AWAKE). */
  | { type: 'fw.registered' }
  | { type: 'fw.wake' }
  | { type: 'fw.cancel' };

/** What the machine asks for: a request to queue (`track`: its outcome comes back as `fw.op`), or stopping one. */
export type FirmwareEmitted =
  | { type: 'request'; purpose: FirmwareRequestPurpose; seq: number; track: boolean }
  /** The update ended early (cancel, timeout): drop the pending request; `clear`: write an empty URI if it was sent. */
  | { type: 'stop'; pending?: PendingRequest; clear: boolean };

type Ctx = { context: FirmwareContext };

const pendingIs = (context: FirmwareContext, seq: number, purpose?: FirmwareRequestPurpose): boolean =>
  context.progress.pending?.seq === seq && (purpose === undefined || context.progress.pending.purpose === purpose);

/** The download may be retried: a retryable result, and retries left. */
const mayRetry = (c: FirmwareContext): boolean =>
  c.progress.lastResult !== undefined && RETRYABLE_RESULTS.has(c.progress.lastResult) && c.attempts <= c.maxRetries;

export const firmwareMachine = setup({
  types: {
    input: {} as FirmwareMachineInput,
    context: {} as FirmwareContext,
    events: {} as FirmwareEvent,
    emitted: {} as FirmwareEmitted,
  },
  delays: {
    timeout: ({ context }) => Math.max(0, context.deadline - context.startedAt),
  },
  actions: {
    /**
     * Makes a tracked request for `purpose`, or re-emits the pending one (same number: the same operation).
     * Without a purpose it only re-emits.
     */
    ensure: enqueueActions(({ context, enqueue }, { purpose }: { purpose?: FirmwareRequestPurpose }) => {
      const pending = context.progress.pending;
      if (pending) {
        enqueue.emit({ type: 'request', purpose: pending.purpose, seq: pending.seq, track: true });
        return;
      }
      if (purpose === undefined) return;
      const seq = context.progress.seq + 1;
      const write = purpose === 'write_uri';
      enqueue.assign({
        attempts: write ? context.attempts + 1 : context.attempts,
        progress: {
          ...context.progress,
          seq,
          pending: { purpose, seq },
          // values heard before this download started are not about it
          ...(write && { lastState: undefined, lastResult: undefined }),
        },
      });
      enqueue.emit({ type: 'request', purpose, seq, track: true });
    }),
    clearPending: assign(({ context }: Ctx) => ({ progress: { ...context.progress, pending: undefined } })),
    recordState: assign(({ context, event }) =>
      event.type === 'fw.state' ? { progress: { ...context.progress, lastState: event.value } } : {},
    ),
    recordResult: assign(({ context, event }) =>
      event.type === 'fw.result' ? { progress: { ...context.progress, lastResult: event.value } } : {},
    ),
    /** Observations are re-made after every registration (Leshan forgets them): two untracked requests. */
    reobserve: enqueueActions(({ context, enqueue }) => {
      const seq = context.progress.seq;
      enqueue.assign({ progress: { ...context.progress, seq: seq + 2 } });
      enqueue.emit({ type: 'request', purpose: 'observe_state', seq: seq + 1, track: false });
      enqueue.emit({ type: 'request', purpose: 'observe_result', seq: seq + 2, track: false });
    }),
    stop: emit(({ context }: Ctx) => ({
      type: 'stop' as const,
      ...(context.progress.pending && { pending: context.progress.pending }),
      clear: context.step === 'writing_uri' || context.step === 'downloading',
    })),
  },
}).createMachine({
  id: 'firmware',
  context: ({ input }) => {
    const { now, ...rest } = input;
    return { ...rest, startedAt: now, status: 'RUNNING' };
  },
  initial: 'resume',
  states: {
    // where a new update starts and a stored one comes back: the step it was in
    resume: {
      always: [
        { guard: ({ context }) => context.step === 'writing_uri', target: 'running.writing_uri' },
        { guard: ({ context }) => context.step === 'downloading', target: 'running.downloading' },
        { guard: ({ context }) => context.step === 'updating', target: 'running.updating' },
        { guard: ({ context }) => context.step === 'verifying', target: 'running.verifying' },
        { target: 'running.observing' },
      ],
    },
    running: {
      initial: 'observing',
      after: {
        timeout: {
          target: 'failed',
          actions: [
            'stop',
            assign(({ context }) => ({
              result: `timed out in step ${context.step} (the update's timeout was ${new Date(context.deadline).toISOString()})`,
            })),
          ],
        },
      },
      on: {
        'fw.state': { actions: 'recordState' },
        'fw.result': { actions: 'recordResult' },
        'fw.registered': { actions: 'reobserve' },
        'fw.cancel': { target: 'cancelled', actions: 'stop' },
      },
      states: {
        observing: {
          entry: [assign({ step: 'observing' }), { type: 'ensure', params: { purpose: 'observe_state' } }],
          on: {
            'fw.op': [
              {
                guard: ({ context, event }) => pendingIs(context, event.seq) && !event.ok && event.deviceAnswered === true,
                target: '#firmware.failed',
                actions: assign(({ event }) => ({ result: `the device has no usable Firmware Update object (5/0): ${event.error}` })),
              },
              {
                // without notifications the workflow reads at the next wake: go on
                guard: ({ context, event }) => pendingIs(context, event.seq, 'observe_state'),
                actions: ['clearPending', { type: 'ensure', params: { purpose: 'observe_result' } }],
              },
              { guard: ({ context, event }) => pendingIs(context, event.seq), target: 'writing_uri', actions: 'clearPending' },
            ],
          },
        },
        writing_uri: {
          entry: [assign({ step: 'writing_uri' }), { type: 'ensure', params: { purpose: 'write_uri' } }],
          on: {
            'fw.op': [
              { guard: ({ context, event }) => pendingIs(context, event.seq) && event.ok, target: 'downloading', actions: 'clearPending' },
              {
                guard: ({ context, event }) => pendingIs(context, event.seq),
                target: '#firmware.failed',
                actions: assign(({ event }) => ({ result: `could not write the package URI to 5/0/1: ${event.error}` })),
              },
            ],
          },
        },
        downloading: {
          entry: [assign({ step: 'downloading' }), { type: 'ensure', params: {} }],
          always: [
            { guard: ({ context }) => context.progress.lastState === STATE_DOWNLOADED, target: 'updating', actions: 'clearPending' },
            {
              guard: ({ context }) => mayRetry(context),
              target: 'writing_uri',
              actions: 'clearPending',
            },
            {
              guard: ({ context }) => context.progress.lastResult !== undefined && isFailureResult(context.progress.lastResult),
              target: '#firmware.failed',
              actions: assign(({ context }) => ({ result: resultInWords(context.progress.lastResult!) })),
            },
          ],
          on: {
            // no notification said Downloaded: ask at the wake
            'fw.wake': {
              guard: ({ context }) => context.progress.pending === undefined,
              actions: [{ type: 'ensure', params: { purpose: 'read_state' } }],
            },
            'fw.op': [
              {
                // Idle after the URI was written: the download ended; the result says how
                guard: ({ context, event }) =>
                  pendingIs(context, event.seq, 'read_state') && event.ok && context.progress.lastState === STATE_IDLE,
                actions: ['clearPending', { type: 'ensure', params: { purpose: 'read_result' } }],
              },
              { guard: ({ context, event }) => pendingIs(context, event.seq), actions: 'clearPending' },
            ],
          },
        },
        updating: {
          entry: [
            assign({ step: 'updating' }),
            { type: 'ensure', params: ({ context }: Ctx) => (context.progress.executed ? {} : { purpose: 'execute_update' as const }) },
          ],
          always: {
            guard: ({ context }) => context.progress.lastResult !== undefined && isFailureResult(context.progress.lastResult),
            target: '#firmware.failed',
            actions: assign(({ context }) => ({ result: resultInWords(context.progress.lastResult!) })),
          },
          on: {
            'fw.op': [
              {
                guard: ({ context, event }) =>
                  pendingIs(context, event.seq, 'execute_update') && !event.ok && event.deviceAnswered === true,
                target: '#firmware.failed',
                actions: assign(({ event }) => ({ result: `the device refused to execute 5/0/2 (update): ${event.error}` })),
              },
              {
                // confirmed, or its fate unknown (it may have run): wait for the registration after the reboot
                guard: ({ context, event }) => pendingIs(context, event.seq, 'execute_update'),
                actions: [
                  'clearPending',
                  assign(({ context, event }) => ({ progress: { ...context.progress, executed: true, executeUnsure: !event.ok } })),
                ],
              },
              { guard: ({ context, event }) => pendingIs(context, event.seq), actions: 'clearPending' },
            ],
            // an execute whose fate is unknown and no registration since: at the next wake, is the device still Downloaded?
            'fw.wake': {
              guard: ({ context }) => context.progress.executeUnsure === true && context.progress.pending === undefined,
              actions: [{ type: 'ensure', params: { purpose: 'read_state' } }],
            },
            'fw.state': [
              {
                // still Downloaded at a wake after an execute that may have been lost: it did not run; again
                guard: ({ context, event }) => context.progress.executeUnsure === true && event.value === STATE_DOWNLOADED,
                actions: [
                  'recordState',
                  // the read that told it is done with (its outcome, coming next, is no longer waited for)
                  'clearPending',
                  assign(({ context }) => ({ progress: { ...context.progress, executed: false, executeUnsure: false } })),
                  { type: 'ensure', params: { purpose: 'execute_update' } },
                ],
              },
              { actions: 'recordState' },
            ],
            'fw.registered': [
              { guard: ({ context }) => context.progress.executed === true, target: 'verifying', actions: 'reobserve' },
              { actions: 'reobserve' },
            ],
          },
        },
        verifying: {
          entry: [assign({ step: 'verifying' }), { type: 'ensure', params: { purpose: 'read_version' } }],
          on: {
            'fw.version': [
              { guard: ({ context, event }) => event.value === context.version, target: '#firmware.succeeded', actions: 'clearPending' },
              {
                target: '#firmware.failed',
                actions: [
                  'clearPending',
                  assign(({ context, event }) => ({
                    result:
                      `version not changed: the device reports "${event.value}" in 3/0/3, expected "${context.version}"` +
                      (context.progress.lastResult !== undefined && isFailureResult(context.progress.lastResult)
                        ? `; ${resultInWords(context.progress.lastResult)}`
                        : ''),
                  })),
                ],
              },
            ],
            'fw.op': { guard: ({ context, event }) => pendingIs(context, event.seq), actions: 'clearPending' },
            // the read failed (or said nothing): again at the next sign of life
            'fw.wake': {
              guard: ({ context }) => context.progress.pending === undefined,
              actions: [{ type: 'ensure', params: { purpose: 'read_version' } }],
            },
            'fw.registered': {
              actions: ['reobserve', { type: 'ensure', params: { purpose: 'read_version' } }],
            },
          },
        },
      },
    },
    succeeded: { type: 'final', entry: assign({ status: 'SUCCEEDED' }) },
    failed: { type: 'final', entry: assign({ status: 'FAILED' }) },
    cancelled: { type: 'final', entry: assign({ status: 'CANCELLED' }) },
  },
});

/**
 * Runs firmware updates: one machine (machine.ts) per RUNNING update, fed by the outcomes of its
 * operations, by what the device reports of 5/0/3, 5/0/5 and 3/0/3 (notifications and reads, as the
 * ingest sees them) and by its registrations and wakes; its requests become ordinary operations.
 *
 * After each step of a machine the update is stored (durable) before its requests are queued, so that
 * after a crash it resumes at that step: the pending request comes again under the same Idempotency-Key
 * and finds its operation (requests.ts).
 */
import { createActor, type Actor } from 'xstate';
import { flattenNode, type ResourceValue } from '../lwm2m/node.js';
import { parsePath } from '../lwm2m/path.js';
import type { LogSink } from '../log/logger.js';
import { errorFields } from '../log/errorText.js';
import { FINAL_STATUSES, type CreateOperationInput, type Operation } from '../operations/operation.js';
import { firmwareMachine, type FirmwareEmitted, type FirmwareEvent } from './machine.js';
import type { FirmwareRepository } from './repository.js';
import { operationFor, requestOf } from './requests.js';
import type { FirmwareUpdate } from './update.js';

/** The part of the operation store the workflow uses. */
export interface FirmwareOperations {
  create(input: CreateOperationInput): Promise<{ operation: Operation; replayed: boolean }>;
  get(id: string): Operation | undefined;
  cancel(id: string): Promise<Operation>;
}

export interface FirmwareDriverOptions {
  repository: FirmwareRepository;
  operations: FirmwareOperations;
  /** Operations were queued for `ep` (the endpoint registry sends them if it is awake). */
  queued(ep: string): void;
  /** `firmware.timeoutMs`: how long an update may run. */
  timeoutMs: number;
  /** `firmware.maxRetries`: downloads after the first, for a result worth another one. */
  maxRetries: number;
  now?: () => number;
  log: LogSink;
  /** Told of every stored change of an update (metrics, points). */
  changed?: (update: FirmwareUpdate, previous: FirmwareUpdate | undefined) => void;
}

export interface StartFirmwareInput {
  ep: string;
  uri: string;
  version: string;
  idempotencyKey?: string;
  campaignId?: string;
}

/** Another update of the endpoint is running. */
export class FirmwareConflictError extends Error {
  constructor(readonly runningId: string) {
    super(`firmware update ${runningId} is running on this endpoint`);
  }
}

/** The update has ended: it cannot be cancelled. */
export class FirmwareEndedError extends Error {}

interface Running {
  update: FirmwareUpdate;
  actor: Actor<typeof firmwareMachine>;
  effects: FirmwareEmitted[];
  chain: Promise<void>;
  /** Events held until the pending request's outcome is in (see send). */
  deferred: FirmwareEvent[];
  /** Leshan's AWAKE was heard and no SLEEPING or registration since: the UPDATED that follows is the same wake. */
  awakeHeard: boolean;
}

export class FirmwareDriver {
  private readonly running = new Map<string, Running>();
  private readonly byEp = new Map<string, string>();
  /** Tracked operations still to end: operation id -> request. */
  private readonly pendingOps = new Map<string, { updateId: string; seq: number }>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: FirmwareDriverOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the machines of the stored RUNNING updates, each at its step. */
  resume(): number {
    let n = 0;
    for (const update of this.options.repository.all()) {
      if (update.status !== 'RUNNING') continue;
      this.byEp.set(update.ep, update.id);
      this.spawn(update);
      n++;
    }
    return n;
  }

  /**
   * A new update (stored before this resolves), or the one made with the same Idempotency-Key.
   * @throws FirmwareConflictError when one is running on the endpoint.
   */
  async start(input: StartFirmwareInput): Promise<{ update: FirmwareUpdate; replayed: boolean }> {
    const { repository } = this.options;
    const existing = this.replayOf(input.ep, input.idempotencyKey);
    if (existing) return { update: existing, replayed: true };
    const runningId = this.byEp.get(input.ep);
    if (runningId !== undefined) throw new FirmwareConflictError(runningId);
    const now = this.now(); // one reading: the timeout is exactly timeoutMs after the creation
    const at = new Date(now).toISOString();
    const update: FirmwareUpdate = {
      id: repository.takeId(),
      ep: input.ep,
      uri: input.uri,
      version: input.version,
      status: 'RUNNING',
      step: 'observing',
      attempts: 0,
      createdAt: at,
      updatedAt: at,
      timeoutAt: new Date(now + this.options.timeoutMs).toISOString(),
      ...(input.idempotencyKey !== undefined && { idempotencyKey: input.idempotencyKey }),
      ...(input.campaignId !== undefined && { campaignId: input.campaignId }),
      progress: { seq: 0 },
    };
    this.byEp.set(input.ep, update.id);
    try {
      await repository.put(update);
    } catch (err) {
      this.byEp.delete(input.ep);
      throw err;
    }
    this.options.changed?.(update, undefined);
    this.spawn(update);
    return { update, replayed: false };
  }

  /** The update started on `ep` with this Idempotency-Key, if any. */
  replayOf(ep: string, idempotencyKey: string | undefined): FirmwareUpdate | undefined {
    if (idempotencyKey === undefined) return undefined;
    return this.options.repository.all().find((u) => u.ep === ep && u.idempotencyKey === idempotencyKey);
  }

  /**
   * Cancels a running update; resolves with it once CANCELLED is stored.
   * @throws FirmwareEndedError when it has ended already.
   */
  async cancel(id: string): Promise<FirmwareUpdate | undefined> {
    const run = this.running.get(id);
    if (!run) {
      const update = this.options.repository.get(id);
      if (update) throw new FirmwareEndedError(`firmware update ${id} is ${update.status} already`);
      return undefined;
    }
    run.actor.send({ type: 'fw.cancel' });
    await run.chain;
    return this.options.repository.get(id);
  }

  /** An operation changed: an ended one the workflow waits for moves its update on. */
  operationChanged(op: Operation): void {
    if (!FINAL_STATUSES.has(op.status)) return;
    const request = this.pendingOps.get(op.id) ?? requestOf(op.idempotencyKey);
    if (!request) return;
    this.pendingOps.delete(op.id);
    const run = this.running.get(request.updateId);
    if (!run) return;
    if (op.status === 'CONFIRMED' && op.result?.content !== undefined && (op.kind === 'read' || op.kind === 'observe')) {
      const values: ResourceValue[] = [];
      try {
        flattenNode(op.result.content, parsePath(op.path), 'content', values);
      } catch (err) {
        this.options.log.warn({ ep: op.ep, id: op.id, ...errorFields(err) }, 'firmware: content of a read not understood');
      }
      this.feedValues(run, values);
    }
    const deviceAnswered = op.status === 'FAILED' && op.result?.code !== undefined;
    run.actor.send({
      type: 'fw.op',
      seq: request.seq,
      ok: op.status === 'CONFIRMED',
      ...(deviceAnswered && { deviceAnswered }),
      ...(op.status !== 'CONFIRMED' && { error: op.error ?? op.status }),
    });
    for (const event of run.deferred.splice(0)) run.actor.send(event);
  }

  /** Values the ingest took for `ep` (notifications, reads). */
  values(ep: string, values: readonly ResourceValue[]): void {
    const id = this.byEp.get(ep);
    const run = id === undefined ? undefined : this.running.get(id);
    if (run) this.feedValues(run, values);
  }

  /** A registration event of `ep`: a new registration (after a reboot), or an update (a wake). */
  registration(ep: string, event: 'registered' | 'updated' | 'deregistered'): void {
    const run = this.runOn(ep);
    if (!run) return;
    const sameWake = run.awakeHeard;
    run.awakeHeard = false;
    if (event === 'registered') this.send(run, { type: 'fw.registered' });
    // Leshan's AWAKE comes just before the UPDATED of a sleeping device: one wake, not two
    if (event === 'updated' && !sameWake) this.send(run, { type: 'fw.wake' });
  }

  /** Leshan's AWAKE or SLEEPING. */
  presence(ep: string, awake: boolean): void {
    const run = this.runOn(ep);
    if (!run) return;
    run.awakeHeard = awake;
    if (awake) this.send(run, { type: 'fw.wake' });
  }

  /** Looks at the operations waited for (an operator may have cancelled one; a settlement may have gone unheard). */
  sweep(): void {
    for (const [opId] of [...this.pendingOps]) {
      const op = this.options.operations.get(opId);
      if (op) this.operationChanged(op);
    }
  }

  /** Updates running now, by endpoint. */
  runningOn(ep: string): string | undefined {
    return this.byEp.get(ep);
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Stops the machines (their state is stored); waits for the stores under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    const chains = [...this.running.values()].map((r) => r.chain);
    for (const run of this.running.values()) run.actor.stop();
    await Promise.allSettled(chains);
  }

  private runOn(ep: string): Running | undefined {
    const id = this.byEp.get(ep);
    return id === undefined ? undefined : this.running.get(id);
  }

  private send(run: Running, event: FirmwareEvent): void {
    // A registration or a wake while the pending request is out (sent, or answered but not recorded yet)
    // comes after its outcome: a device rebooting at once after the execute registers before the answer is
    // on disk, and a read answered in the last wake says nothing of this one (so it is asked again).
    const pending = run.actor.getSnapshot().context.progress.pending;
    const opId = pending && this.operationOf(run.update.id, pending.seq);
    if (opId !== undefined && this.options.operations.get(opId)?.status !== 'QUEUED') {
      if (!run.deferred.some((e) => e.type === event.type)) run.deferred.push(event);
      return;
    }
    run.actor.send(event);
  }

  private feedValues(run: Running, values: readonly ResourceValue[]): void {
    for (const v of values) {
      if (v.objectId === 5 && v.instanceId === 0 && (v.value.type === 'INTEGER' || v.value.type === 'UNSIGNED_INTEGER')) {
        const value = Number(v.value.value);
        if (v.resourceId === 3) run.actor.send({ type: 'fw.state', value });
        if (v.resourceId === 5) run.actor.send({ type: 'fw.result', value });
      }
      if (v.objectId === 3 && v.instanceId === 0 && v.resourceId === 3 && v.value.type === 'STRING') {
        run.actor.send({ type: 'fw.version', value: String(v.value.value) });
      }
    }
  }

  private spawn(update: FirmwareUpdate): void {
    const actor = createActor(firmwareMachine, {
      input: {
        step: update.step,
        attempts: update.attempts,
        progress: update.progress,
        version: update.version,
        deadline: Date.parse(update.timeoutAt),
        now: this.now(),
        maxRetries: this.options.maxRetries,
      },
    });
    const run: Running = { update, actor, effects: [], chain: Promise.resolve(), deferred: [], awakeHeard: false };
    this.running.set(update.id, run);
    actor.on('*', (e) => void run.effects.push(e as FirmwareEmitted));
    actor.subscribe(() => this.stepped(run));
    actor.start();
    this.stepped(run);
  }

  /** After the machine moved: store the update if it changed, then make its requests, in order. */
  private stepped(run: Running): void {
    if (this.stopped) return;
    const c = run.actor.getSnapshot().context;
    const prev = run.update;
    const next: FirmwareUpdate = {
      ...prev,
      status: c.status,
      step: c.step,
      attempts: c.attempts,
      progress: c.progress,
      ...(c.result !== undefined && { result: c.result }),
    };
    const changed =
      next.status !== prev.status ||
      next.step !== prev.step ||
      next.attempts !== prev.attempts ||
      next.result !== prev.result ||
      JSON.stringify(next.progress) !== JSON.stringify(prev.progress);
    const effects = run.effects.splice(0);
    if (!changed && effects.length === 0) return;
    if (changed) {
      next.updatedAt = new Date(this.now()).toISOString();
      run.update = next;
    }
    const final = next.status !== 'RUNNING';
    if (final) {
      this.running.delete(next.id);
      if (this.byEp.get(next.ep) === next.id) this.byEp.delete(next.ep);
    }
    run.chain = run.chain.then(async () => {
      if (changed) {
        try {
          await this.options.repository.put(next);
          this.options.changed?.(next, prev);
        } catch (err) {
          this.options.log.error({ ep: next.ep, id: next.id, ...errorFields(err) }, 'firmware update could not be stored');
        }
      }
      for (const effect of effects) await this.effect(next, effect);
      if (final) {
        run.actor.stop();
        for (const [opId, r] of [...this.pendingOps]) if (r.updateId === next.id) this.pendingOps.delete(opId);
      }
    });
  }

  private async effect(update: FirmwareUpdate, effect: FirmwareEmitted): Promise<void> {
    const { operations, log } = this.options;
    try {
      if (effect.type === 'request') {
        const { operation, replayed } = await operations.create(operationFor(update, effect.purpose, effect.seq, this.now()));
        if (effect.track && update.status === 'RUNNING') {
          this.pendingOps.set(operation.id, { updateId: update.id, seq: effect.seq });
          // made before a restart and ended since: its outcome is known now
          if (FINAL_STATUSES.has(operation.status)) queueMicrotask(() => this.operationChanged(operation));
        }
        if (!replayed) this.options.queued(update.ep);
        return;
      }
      let writeCancelled = false;
      const pendingId = effect.pending && this.operationOf(update.id, effect.pending.seq);
      if (pendingId !== undefined && operations.get(pendingId)?.status === 'QUEUED') {
        await operations.cancel(pendingId);
        writeCancelled = effect.pending!.purpose === 'write_uri';
      }
      if (effect.clear && !writeCancelled) {
        await operations.create(operationFor(update, 'clear_uri', update.progress.seq + 1, this.now()));
        this.options.queued(update.ep);
      }
    } catch (err) {
      log.error({ ep: update.ep, id: update.id, effect, ...errorFields(err) }, 'firmware: a request could not be queued');
    }
  }

  private operationOf(updateId: string, seq: number): string | undefined {
    for (const [opId, r] of this.pendingOps) if (r.updateId === updateId && r.seq === seq) return opId;
    return undefined;
  }
}

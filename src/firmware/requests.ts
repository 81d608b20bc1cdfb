/**
 * Each request of the workflow as an ordinary operation: its kind, path and value, and its
 * Idempotency-Key `firmware:<update id>:<number>:<purpose>` (the operator sees which update an operation
 * belongs to; a request made again after a restart finds its operation instead of queueing a second one).
 */
import type { CreateOperationInput } from '../operations/operation.js';
import { validateCreate } from '../operations/validate.js';
import type { FirmwareRequestPurpose, FirmwareUpdate } from './update.js';

const REQUESTS: Record<FirmwareRequestPurpose, (u: FirmwareUpdate) => { kind: string; path: string; value?: string }> = {
  observe_state: () => ({ kind: 'observe', path: '/5/0/3' }),
  observe_result: () => ({ kind: 'observe', path: '/5/0/5' }),
  write_uri: (u) => ({ kind: 'write', path: '/5/0/1', value: u.uri }),
  read_state: () => ({ kind: 'read', path: '/5/0/3' }),
  read_result: () => ({ kind: 'read', path: '/5/0/5' }),
  execute_update: () => ({ kind: 'execute', path: '/5/0/2' }),
  read_version: () => ({ kind: 'read', path: '/3/0/3' }),
  clear_uri: () => ({ kind: 'write', path: '/5/0/1', value: '' }),
};

const KEY = /^firmware:([1-9][0-9]*):([0-9]+):([a-z_]+)$/;

export function requestKey(updateId: string, seq: number, purpose: FirmwareRequestPurpose): string {
  return `firmware:${updateId}:${seq}:${purpose}`;
}

/** The update id and request number of an operation the workflow queued (from its Idempotency-Key). */
export function requestOf(idempotencyKey: string | undefined): { updateId: string; seq: number } | undefined {
  const match = idempotencyKey === undefined ? null : KEY.exec(idempotencyKey);
  return match ? { updateId: match[1]!, seq: Number(match[2]) } : undefined;
}

/** The operation for one request of `update`. */
export function operationFor(update: FirmwareUpdate, purpose: FirmwareRequestPurpose, seq: number, now: number): CreateOperationInput {
  return validateCreate(update.ep, REQUESTS[purpose](update), requestKey(update.id, seq, purpose), now);
}

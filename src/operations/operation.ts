/**
 * Endpoint operations: what an operator queues for a (sleeping) device. Pure types, no I/O.
 */
import type { DeviceResult } from '../leshan/responses.js';
import { REQUEST_KINDS, type RequestKind } from '../lwm2m/requestKinds.js';
import type { ResourceType } from '../lwm2m/value.js';

/** What the daemon asks Leshan to do on the device: one LwM2M request (lwm2m/requestKinds.ts). */
export type OperationKind = RequestKind;
export const OPERATION_KINDS = REQUEST_KINDS;

export type OperationStatus = 'QUEUED' | 'SENDING' | 'CONFIRMED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';
export const OPERATION_STATUSES: readonly OperationStatus[] = ['QUEUED', 'SENDING', 'CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED'];

/** An operation id: an increasing integer as a decimal string, no leading zero. */
export const OPERATION_ID = /^[1-9][0-9]{0,14}$/;
/** A list cursor: the id of the last operation of the previous page (0: from the start). */
export const LIST_CURSOR = /^(0|[1-9][0-9]{0,14})$/;

/** Statuses an operation never leaves. */
export const FINAL_STATUSES: ReadonlySet<OperationStatus> = new Set(['CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED']);

/** What Leshan (or the device) answered to the last attempt, kept on the operation. */
export type OperationResult = DeviceResult;

/** One operation as stored and as shown to operators (JSON). Times are ISO-8601 strings. */
export interface Operation {
  /** Increasing integer, as a decimal string (sorts by creation when compared as numbers). */
  id: string;
  ep: string;
  kind: OperationKind;
  /** LwM2M path, e.g. "/5/0/1". */
  path: string;
  /** write: the value as the operator gave it (JSON), validated against `type`. */
  value?: unknown;
  /** write: the LwM2M type of the value. */
  type?: ResourceType;
  /** execute: the argument string, e.g. "0='v1',1". */
  args?: string;
  status: OperationStatus;
  /** Delivery attempts that reached Leshan (an unreachable Leshan does not count). */
  attempts: number;
  createdAt: string;
  updatedAt: string;
  lastAttemptAt?: string;
  /** After this instant a still-QUEUED operation becomes EXPIRED instead of being sent. */
  expiresAt?: string;
  result?: OperationResult;
  /** Why it failed, or why the last attempt did not deliver it. */
  error?: string;
  /** The client's Idempotency-Key header, if it sent one. */
  idempotencyKey?: string;
}

/** What creating an operation takes: an operator's request, validated (see validate.ts). */
export type CreateOperationInput = Pick<Operation, 'ep' | 'kind' | 'path' | 'value' | 'type' | 'args' | 'expiresAt' | 'idempotencyKey'>;

/**
 * A firmware update of one endpoint, as stored and as shown to operators. Pure types, no I/O.
 *
 * Statuses: RUNNING (its `step` says where), then one final status: SUCCEEDED, FAILED (with `result`) or
 * CANCELLED. Steps, in order: observing (5/0/3 and 5/0/5), writing_uri (5/0/1), downloading (until 5/0/3
 * is Downloaded), updating (execute 5/0/2, then the device registers again), verifying (3/0/3 against
 * `version`).
 */

export type FirmwareStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const FIRMWARE_STATUSES: readonly FirmwareStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
export const FINAL_FIRMWARE_STATUSES: ReadonlySet<FirmwareStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export type FirmwareStep = 'observing' | 'writing_uri' | 'downloading' | 'updating' | 'verifying';
export const FIRMWARE_STEPS: readonly FirmwareStep[] = ['observing', 'writing_uri', 'downloading', 'updating', 'verifying'];

/** What the workflow asks of the device: each one becomes an ordinary operation. */
export type FirmwareRequestPurpose =
  | 'observe_state' // observe 5/0/3
  | 'observe_result' // observe 5/0/5
  | 'write_uri' // write 5/0/1 = uri
  | 'read_state' // read 5/0/3
  | 'read_result' // read 5/0/5
  | 'execute_update' // execute 5/0/2
  | 'read_version' // read 3/0/3
  | 'clear_uri'; // write 5/0/1 = "" (stops a download)

/** A request the workflow made and waits for (its operation's outcome), numbered within the update. */
export interface PendingRequest {
  purpose: FirmwareRequestPurpose;
  seq: number;
}

/** What the workflow keeps between events (and across restarts). */
export interface FirmwareProgress {
  /** Numbers the update's requests (the operations' Idempotency-Keys are built from it). */
  seq: number;
  pending?: PendingRequest;
  /** The last 5/0/3 and 5/0/5 values heard since the URI was written. */
  lastState?: number;
  lastResult?: number;
  /** The execute of 5/0/2 was answered (or may have run). */
  executed?: boolean;
  /** The execute's fate is unknown (lost after it was sent): a wake still Downloaded shows it did not run. */
  executeUnsure?: boolean;
}

export interface FirmwareUpdate {
  /** Increasing integer, as a decimal string. */
  id: string;
  ep: string;
  uri: string;
  version: string;
  status: FirmwareStatus;
  /** Where a RUNNING update is (the last step reached, for a final one). */
  step: FirmwareStep;
  /** Downloads started (writes of the package URI). */
  attempts: number;
  createdAt: string;
  updatedAt: string;
  /** After this instant a RUNNING update is FAILED (timed out). */
  timeoutAt: string;
  /** Why it ended (FAILED: the 5/0/5 result in words, a timeout, the version not changed). */
  result?: string;
  idempotencyKey?: string;
  campaignId?: string;
  progress: FirmwareProgress;
}

/** An update as the API shows it (the workflow's progress stays inside). */
export type FirmwareUpdateView = Omit<FirmwareUpdate, 'progress'>;

export function viewOf(update: FirmwareUpdate): FirmwareUpdateView {
  const { progress: _progress, ...view } = update;
  return view;
}

/** One firmware update per device of a list, at most `maxConcurrent` of them RUNNING at once. */
export interface FirmwareCampaign {
  /** Increasing integer, as a decimal string (its own sequence). */
  id: string;
  uri: string;
  version: string;
  maxConcurrent: number;
  /** The devices, in the order their updates start (a `match` resolved when the campaign was made). */
  endpoints: string[];
  /** How many of `endpoints` have been started (or skipped). */
  started: number;
  /** Devices left out: an update of another origin was running on them. */
  skipped: { ep: string; runningId: string }[];
  match?: string;
  createdAt: string;
  updatedAt: string;
  /** Cancelled by an operator: no update is started any more (and those RUNNING were cancelled). */
  cancelledAt?: string;
}

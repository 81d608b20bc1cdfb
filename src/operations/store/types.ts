import type { LogSink } from '../../log/logger.js';
import type { CompactionPolicy } from './persistence.js';
import type { OperationResult, OperationStatus } from '../operation.js';

export interface OperationStoreOptions {
  /** e.g. `${dataDir}/operations.json`; its directory is created if missing. */
  file: string;
  now?: () => number;
  /** Recovery turns a SENDING operation with this many attempts into FAILED; settle does the same for QUEUED. */
  maxAttempts: number;
  /** `prune()` removes finished operations last updated longer ago than this. */
  pruneAfterMs: number;
  log?: LogSink;
  /** A corrupt file: keep every complete operation in it (copied aside first) instead of refusing to open. */
  salvage?: boolean;
  /** After a failed write, how often a write is tried again (default 2 s); changes are refused meanwhile. */
  retryWriteMs?: number;
  /** When the journal is folded into a new snapshot (defaults: DEFAULT_POLICY in persistence.ts). */
  compaction?: Partial<CompactionPolicy>;
}

export type { CreateOperationInput } from '../operation.js';

export interface ListQuery {
  ep?: string;
  /** Only operations in one of these statuses (all when absent). */
  statuses?: ReadonlySet<OperationStatus>;
  /** `oldest` first (ascending ids, the default) or `newest` first. */
  order?: 'oldest' | 'newest';
  /** Cursor, the last id of the previous page: only operations after it in the order asked for. */
  after?: string;
  limit: number;
}

export interface SettlePatch {
  status: OperationStatus;
  result?: OperationResult;
  error?: string;
  /** false: Leshan was unreachable, the attempt counted by markSending is taken back. */
  countAttempt?: boolean;
}

import type { OperationStatus } from '../operation.js';

/** No operation has that id (or it was pruned). */
export class StoreNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`operation ${id} not found`);
    this.name = 'StoreNotFoundError';
  }
}

/** The operation is not in a status that allows the change (HTTP 409). */
export class StoreConflictError extends Error {
  constructor(
    readonly id: string,
    readonly status: OperationStatus,
    action: string,
  ) {
    super(`operation ${id} is ${status}; cannot ${action}`);
    this.name = 'StoreConflictError';
  }
}

/** The store is closed (or not open yet) and takes no more changes. */
export class StoreClosedError extends Error {
  constructor() {
    super('operation store is closed');
    this.name = 'StoreClosedError';
  }
}

/**
 * The store cannot write to disk (disk full, read-only, I/O error): the change was undone and refused
 * (HTTP 503); the store takes changes again once a write succeeds.
 */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`operation store cannot write to disk (${reason}); nothing was changed, try again later`);
    this.name = 'StoreUnavailableError';
  }
}

/** The store file cannot be read as it is: the daemon does not start on it unless told to salvage. */
export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(
      `operation store ${file} is corrupt (${reason}); nothing was changed. ` +
        'To keep every complete operation in it and start, run once with --salvage-store ' +
        `(the file is first copied to ${file}.corrupt-<time>); to start empty, move the file away.`,
    );
    this.name = 'StoreCorruptError';
  }
}

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

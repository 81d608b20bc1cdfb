import type { Operation } from '../../src/operations/operation.js';

let seq = 0;

/** An operation as the delivery hands it to the Leshan client (SENDING, endpoint `dev1` unless given). */
export function sendingOp(fields: Partial<Operation> & Pick<Operation, 'kind' | 'path'>): Operation {
  return {
    id: String(++seq),
    ep: 'dev1',
    status: 'SENDING',
    attempts: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

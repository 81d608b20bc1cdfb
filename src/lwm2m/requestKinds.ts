/**
 * The LwM2M requests the daemon sends to a device through Leshan, and the path depths each may target
 * (as Leshan's request constructors allow: docs/leshan-rest-api.md §1.2 and §3). Pure.
 */
import type { PathLevel } from './path.js';

export type RequestKind =
  | 'write' //          PUT    /api/clients/{ep}/o/i/r[/ri]   node JSON
  | 'execute' //        POST   /api/clients/{ep}/o/i/r        raw argument string
  | 'read' //           GET    /api/clients/{ep}/o[/i[/r[/ri]]]
  | 'observe' //        POST   /api/clients/{ep}/o[/i[/r]]/observe
  | 'cancel-observe' // DELETE /api/clients/{ep}/o[/i[/r]]/observe?active
  | 'delete'; //        DELETE /api/clients/{ep}/o/i

export const REQUEST_KINDS: readonly RequestKind[] = ['write', 'execute', 'read', 'observe', 'cancel-observe', 'delete'];

/** The path levels each kind may target. */
export const KIND_LEVELS: Readonly<Record<RequestKind, readonly PathLevel[]>> = {
  write: ['resource', 'resourceInstance'], // instance writes need another body (not a kind yet)
  execute: ['resource'], // exactly /o/i/r
  read: ['object', 'instance', 'resource', 'resourceInstance'],
  observe: ['object', 'instance', 'resource', 'resourceInstance'],
  'cancel-observe': ['object', 'instance', 'resource', 'resourceInstance'],
  delete: ['instance'], // Leshan deletes object instances only
};

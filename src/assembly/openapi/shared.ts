/** The building blocks of the OpenAPI document: references, answers, errors and the parameters several routes take. */
import { OPERATION_STATUSES } from '../../operations/operation.js';

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Schema, description: string): Schema => ({ description, content: { 'application/json': { schema } } });
export const error = (description: string): Schema => json(ref('Error'), description);
export const dateTime: Schema = { type: 'string', format: 'date-time' };

export const ERRORS = {
  badRequest: error(
    'the request is malformed: `error.code` says how (`malformed_json`, `invalid_query`, ...) and `error.details.field` which field',
  ),
  unauthorized: error('`auth.token` is set and the request has no or a wrong `Authorization: Bearer` header'),
  notFound: error('no such endpoint or operation'),
  tooLarge: error('the body is larger than `http.bodyLimitBytes`'),
  unsupported: error('the body is not JSON (`Content-Type: application/json`)'),
  unavailable: error('the operation store cannot write (disk full, I/O error) or the daemon is stopping; `Retry-After` says when to retry'),
};
export const UNAVAILABLE = { '503': ERRORS.unavailable };

export const path = (name: string, description: string, schema: Schema = { type: 'string' }): Schema => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
export const query = (name: string, description: string, schema: Schema = { type: 'string' }): Schema => ({
  name,
  in: 'query',
  description,
  schema,
});

export const EP = path('ep', 'the endpoint name, as the device registers it (URL-encoded)');
export const OPERATION_ID = path('id', 'an operation id', { type: 'string', pattern: '^[1-9][0-9]{0,14}$' });
export const LIMIT = query('limit', 'items per page, 1-1000 (100 by default)', { type: 'integer', minimum: 1, maximum: 1000 });
export const CURSOR = query('cursor', '`next` of the previous page');
export const STATUS = query(
  'status',
  `only operations in these statuses: one or more of ${OPERATION_STATUSES.join(', ')}, comma-separated or repeated, any case`,
  {
    type: 'string',
  },
);
export const ORDER = query('order', '`oldest` first (the default) or `newest` first', { enum: ['oldest', 'newest'] });

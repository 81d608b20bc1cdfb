/**
 * The OpenAPI 3.1 description of every route the daemon serves, served at `GET /openapi.json`. Enumerations
 * come from the code (kinds, statuses, types), and test/assembly/openapi.test.ts checks the document against
 * the OpenAPI 3.1 schema and every real answer of every route against it, so it cannot drift unnoticed.
 */
import { REGISTRATION_EVENTS } from '../lwm2m/registrationObject.js';
import { RESOURCE_TYPES } from '../lwm2m/value.js';
import { OPERATION_KINDS, OPERATION_STATUSES } from '../operations/operation.js';
import { FIRMWARE_STATUSES, FIRMWARE_STEPS } from '../firmware/update.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string): Schema => ({ description, content: { 'application/json': { schema } } });
const error = (description: string): Schema => json(ref('Error'), description);
const dateTime: Schema = { type: 'string', format: 'date-time' };

const ERRORS = {
  badRequest: error(
    'the request is malformed: `error.code` says how (`malformed_json`, `invalid_query`, ...) and `error.details.field` which field',
  ),
  unauthorized: error('`auth.token` is set and the request has no or a wrong `Authorization: Bearer` header'),
  notFound: error('no such endpoint or operation'),
  tooLarge: error('the body is larger than `http.bodyLimitBytes`'),
  unsupported: error('the body is not JSON (`Content-Type: application/json`)'),
  unavailable: error('the operation store cannot write (disk full, I/O error) or the daemon is stopping; `Retry-After` says when to retry'),
};
const UNAVAILABLE = { '503': ERRORS.unavailable };

const path = (name: string, description: string, schema: Schema = { type: 'string' }): Schema => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
const query = (name: string, description: string, schema: Schema = { type: 'string' }): Schema => ({
  name,
  in: 'query',
  description,
  schema,
});

const EP = path('ep', 'the endpoint name, as the device registers it (URL-encoded)');
const OPERATION_ID = path('id', 'an operation id', { type: 'string', pattern: '^[1-9][0-9]{0,14}$' });
const LIMIT = query('limit', 'items per page, 1-1000 (100 by default)', { type: 'integer', minimum: 1, maximum: 1000 });
const CURSOR = query('cursor', '`next` of the previous page');
const STATUS = query(
  'status',
  `only operations in these statuses: one or more of ${OPERATION_STATUSES.join(', ')}, comma-separated or repeated, any case`,
  {
    type: 'string',
  },
);
const ORDER = query('order', '`oldest` first (the default) or `newest` first', { enum: ['oldest', 'newest'] });

const LESHAN_POST_ANSWERS = {
  '201': json(ref('Accepted'), 'the values are queued for InfluxDB'),
  '400': ERRORS.badRequest,
  '403': error('the sender is not in `http.leshanAllowFrom`'),
  '405': error('only POST'),
  '409': error("`leshan.ingress` is `events`: values come from Leshan's event stream"),
  '413': ERRORS.tooLarge,
  '415': ERRORS.unsupported,
};

const leshanPost = (summary: string, body: string): Schema => ({
  post: {
    tags: ['leshan'],
    summary,
    requestBody: { required: true, content: { 'application/json': { schema: ref(body) } } },
    responses: LESHAN_POST_ANSWERS,
  },
});

/** A node of Leshan's JSON (kinds obj, instance, singleResource, multiResource); checked in full by the daemon. */
const NODE: Schema = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { enum: ['obj', 'instance', 'singleResource', 'multiResource'] }, id: { type: 'integer' } },
};

const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      },
    },
  },
  Accepted: {
    type: 'object',
    required: ['accepted'],
    additionalProperties: false,
    properties: {
      accepted: { type: 'integer', minimum: 0, description: 'values accepted' },
      nullNodes: { type: 'integer', minimum: 1, description: 'paths whose node was null (left out by the device): skipped' },
    },
  },
  Node: NODE,
  SinglePost: {
    type: 'object',
    required: ['ep', 'obj_id', 'val'],
    properties: { ep: { type: 'string' }, obj_id: { type: 'integer' }, val: ref('Node') },
  },
  CompositePost: {
    type: 'object',
    required: ['ep', 'val'],
    properties: {
      ep: { type: 'string' },
      val: {
        type: 'object',
        description: 'nodes by LwM2M path (`/3303`, `/3303/0/5700`)',
        additionalProperties: { oneOf: [ref('Node'), { type: 'null' }] },
      },
    },
  },
  TimestampedPost: {
    type: 'object',
    required: ['ep', 'val'],
    properties: {
      ep: { type: 'string' },
      val: {
        type: 'array',
        description:
          'one entry per device time: `{"<ISO-8601 instant>": {"nodes": {...}}}`, or `"null"` for values without a time (written at arrival)',
        items: {
          type: 'object',
          minProperties: 1,
          maxProperties: 1,
          additionalProperties: {
            type: 'object',
            required: ['nodes'],
            properties: { nodes: { type: 'object', additionalProperties: { oneOf: [ref('Node'), { type: 'null' }] } } },
          },
        },
      },
    },
  },
  CreateOperation: {
    type: 'object',
    required: ['kind', 'path'],
    additionalProperties: false,
    properties: {
      kind: { enum: [...OPERATION_KINDS] },
      path: { type: 'string', examples: ['/5/0/1'] },
      value: { description: 'write: the value, checked against `type` (taken from the object model when left out)' },
      type: { enum: [...RESOURCE_TYPES] },
      args: { type: 'string', description: "execute: LwM2M arguments, e.g. 0='v1',1" },
      expiresAt: { ...dateTime, description: 'after this instant a still QUEUED operation becomes EXPIRED' },
      ttlSeconds: { type: 'integer', minimum: 1, description: 'expiresAt as seconds from now' },
    },
  },
  DeviceResult: {
    type: 'object',
    additionalProperties: false,
    properties: { status: { type: 'string' }, code: { type: 'integer' }, content: {}, errormessage: { type: 'string' } },
  },
  Operation: {
    type: 'object',
    required: ['id', 'ep', 'kind', 'path', 'status', 'attempts', 'createdAt', 'updatedAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
      ep: { type: 'string' },
      kind: { enum: [...OPERATION_KINDS] },
      path: { type: 'string' },
      value: {},
      type: { enum: [...RESOURCE_TYPES] },
      args: { type: 'string' },
      status: { enum: [...OPERATION_STATUSES] },
      attempts: { type: 'integer', minimum: 0, description: 'delivery attempts that reached Leshan' },
      createdAt: dateTime,
      updatedAt: dateTime,
      lastAttemptAt: dateTime,
      expiresAt: dateTime,
      result: ref('DeviceResult'),
      error: { type: 'string' },
      idempotencyKey: { type: 'string' },
    },
  },
  OperationPage: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: { items: { type: 'array', items: ref('Operation') }, next: { type: 'string' } },
  },
  CreateFirmwareUpdate: {
    type: 'object',
    required: ['uri', 'version'],
    additionalProperties: false,
    properties: {
      uri: { type: 'string', maxLength: 255, description: 'the package URI written to 5/0/1 (coap, coaps, http, https)' },
      version: { type: 'string', maxLength: 255, description: 'the version the device must report in 3/0/3 afterwards' },
    },
  },
  FirmwareUpdate: {
    type: 'object',
    required: ['id', 'ep', 'uri', 'version', 'status', 'step', 'attempts', 'createdAt', 'updatedAt', 'timeoutAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
      ep: { type: 'string' },
      uri: { type: 'string' },
      version: { type: 'string' },
      status: { enum: [...FIRMWARE_STATUSES] },
      step: { enum: [...FIRMWARE_STEPS], description: 'where a RUNNING update is; for an ended one, the last step it reached' },
      attempts: { type: 'integer', minimum: 0, description: 'downloads started (writes of 5/0/1)' },
      createdAt: dateTime,
      updatedAt: dateTime,
      timeoutAt: { ...dateTime, description: 'a RUNNING update is FAILED (timed out) at this instant' },
      result: { type: 'string', description: 'why it ended: the 5/0/5 result in words, a timeout, the version not changed' },
      idempotencyKey: { type: 'string' },
      campaignId: { type: 'string' },
    },
  },
  FirmwareUpdatePage: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: { items: { type: 'array', items: ref('FirmwareUpdate') }, next: { type: 'string' } },
  },
  CreateFirmwareCampaign: {
    type: 'object',
    required: ['uri', 'version'],
    additionalProperties: false,
    properties: {
      uri: { type: 'string', maxLength: 255 },
      version: { type: 'string', maxLength: 255 },
      endpoints: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'the devices (or give match)' },
      match: { type: 'string', pattern: '\\*$', description: '`prefix*`: every endpoint the daemon knows whose name starts with prefix' },
      maxConcurrent: { type: 'integer', minimum: 1, maximum: 10000, description: 'updates RUNNING at once (10 by default)' },
    },
  },
  FirmwareCampaign: {
    type: 'object',
    required: ['id', 'uri', 'version', 'maxConcurrent', 'endpoints', 'skipped', 'createdAt', 'updatedAt', 'counts', 'done'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
      uri: { type: 'string' },
      version: { type: 'string' },
      maxConcurrent: { type: 'integer', minimum: 1 },
      endpoints: { type: 'array', items: { type: 'string' } },
      match: { type: 'string' },
      skipped: {
        type: 'array',
        description: 'devices left out: an update of another origin was running on them',
        items: {
          type: 'object',
          required: ['ep', 'runningId'],
          additionalProperties: false,
          properties: { ep: { type: 'string' }, runningId: { type: 'string' } },
        },
      },
      createdAt: dateTime,
      updatedAt: dateTime,
      counts: {
        type: 'object',
        description: "the campaign's updates by status; WAITING: not started yet",
        additionalProperties: false,
        required: [...FIRMWARE_STATUSES, 'WAITING', 'SKIPPED'],
        properties: Object.fromEntries([...FIRMWARE_STATUSES, 'WAITING', 'SKIPPED'].map((s) => [s, { type: 'integer', minimum: 0 }])),
      },
      done: { type: 'boolean', description: 'nothing WAITING or RUNNING' },
    },
  },
  FirmwareCampaignPage: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: { items: { type: 'array', items: ref('FirmwareCampaign') }, next: { type: 'string' } },
  },
  Endpoint: {
    type: 'object',
    required: ['ep', 'state', 'registered', 'queueMode', 'pending'],
    additionalProperties: false,
    properties: {
      ep: { type: 'string' },
      state: { enum: ['offline', 'online', 'sending'] },
      registered: { type: 'boolean' },
      queueMode: { type: 'boolean' },
      awakeUntil: dateTime,
      lastEvent: {
        type: 'object',
        required: ['type', 'at'],
        additionalProperties: false,
        properties: { type: { enum: [...REGISTRATION_EVENTS] }, at: dateTime },
      },
      pending: { type: 'integer', minimum: 0, description: 'QUEUED operations' },
    },
  },
  EndpointPage: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: { items: { type: 'array', items: ref('Endpoint') }, next: { type: 'string' } },
  },
  Check: {
    type: 'object',
    required: ['status', 'ok'],
    properties: { status: { enum: ['ok', 'degraded', 'fail'] }, ok: { type: 'boolean' } },
  },
  Health: {
    type: 'object',
    required: ['status', 'checks'],
    additionalProperties: false,
    properties: {
      status: { enum: ['ok', 'degraded', 'fail'] },
      failing: { type: 'array', items: { type: 'string' } },
      degraded: { type: 'array', items: { type: 'string' } },
      checks: { type: 'object', additionalProperties: ref('Check') },
    },
  },
};

/** The document for the daemon of this `version`. */
export function openApiDocument(version: string): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'lwm2m-backend',
      version,
      description:
        "Leshan's device values to InfluxDB, and operations for sleeping LwM2M devices delivered through Leshan's REST API. " +
        'Errors are `{"error":{"code","message"}}`; lists are `{"items":[...],"next":"<cursor>"}`.',
    },
    servers: [{ url: '/' }],
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: '`auth.token`; the API is open when it is empty' } },
    },
    tags: [
      { name: 'leshan', description: 'posts from Leshan (the seed design fork or this project own Leshan server)' },
      { name: 'operations', description: 'operations queued by operators' },
      { name: 'endpoints', description: 'what the daemon knows of each endpoint' },
      { name: 'daemon', description: 'health, metrics and this document' },
    ],
    paths: {
      '/leshan_api/resource/single': leshanPost(
        'one node of one object (the seed fork: registrations as object 10240, notifications)',
        'SinglePost',
      ),
      '/leshan_api/resource/composite': leshanPost('nodes by path (composite reads and notifications)', 'CompositePost'),
      '/leshan_api/resource/timestamped': leshanPost(
        'nodes by device time (LwM2M Send and timestamped notifications), each value written at its device time',
        'TimestampedPost',
      ),
      '/api/endpoints/{ep}/operations': {
        parameters: [EP],
        post: {
          tags: ['operations'],
          summary: 'queue an operation for the endpoint',
          security: [{ bearer: [] }],
          parameters: [
            query(
              'allowUnseen',
              'true: queue even for an endpoint nobody has seen (not registered, no operations, not in endpoints.expected)',
              {
                enum: ['true', 'false'],
              },
            ),
            {
              name: 'Idempotency-Key',
              in: 'header',
              description:
                'makes a retried create safe. Scope: one endpoint. The same key again for the same endpoint answers 200 with the operation it created, ' +
                'for as long as that operation is stored (a finished one is pruned after operations.pruneAfterMs, 7 days by default); ' +
                'with another request 422. The same key on another endpoint is another key.',
              schema: { type: 'string', maxLength: 200 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateOperation') } } },
          responses: {
            '200': json(ref('Operation'), 'an Idempotency-Key replay: the operation the key created'),
            '201': json(ref('Operation'), 'queued'),
            '400': ERRORS.badRequest,
            '401': ERRORS.unauthorized,
            '404': error('`unknown_endpoint`: nobody has seen the endpoint (a typo?); `?allowUnseen=true` queues anyway'),
            '413': ERRORS.tooLarge,
            '415': ERRORS.unsupported,
            '422': error('the Idempotency-Key was used with another request'),
            ...UNAVAILABLE,
          },
        },
        get: {
          tags: ['operations'],
          summary: "the endpoint's operations, oldest or newest first",
          security: [{ bearer: [] }],
          parameters: [STATUS, ORDER, LIMIT, CURSOR],
          responses: { '200': json(ref('OperationPage'), 'a page'), '400': ERRORS.badRequest, '401': ERRORS.unauthorized },
        },
      },
      '/api/endpoints/{ep}/firmware': {
        parameters: [EP],
        post: {
          tags: ['firmware'],
          summary: 'start a firmware update of the endpoint (docs/firmware.md)',
          security: [{ bearer: [] }],
          parameters: [
            query('allowUnseen', '`true`: start it even for an endpoint nobody has seen', { enum: ['true', 'false'] }),
            {
              name: 'Idempotency-Key',
              in: 'header',
              description:
                'as for operations: the same key on the same endpoint answers 200 with the update it started; with another body 422',
              schema: { type: 'string', maxLength: 200 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateFirmwareUpdate') } } },
          responses: {
            '200': json(ref('FirmwareUpdate'), 'an Idempotency-Key replay: the update the key started'),
            '201': json(ref('FirmwareUpdate'), 'started (RUNNING, step observing)'),
            '400': ERRORS.badRequest,
            '401': ERRORS.unauthorized,
            '404': error('`unknown_endpoint`: nobody has seen the endpoint; `?allowUnseen=true` starts it anyway'),
            '409': error('an update is running on the endpoint: `error.details.runningId` names it'),
            '413': ERRORS.tooLarge,
            '415': ERRORS.unsupported,
            '422': error('the Idempotency-Key was used with another request'),
          },
        },
        get: {
          tags: ['firmware'],
          summary: "the endpoint's firmware updates, oldest first",
          security: [{ bearer: [] }],
          parameters: [query('status', 'only updates in this status', { enum: [...FIRMWARE_STATUSES] }), LIMIT, CURSOR],
          responses: { '200': json(ref('FirmwareUpdatePage'), 'a page'), '400': ERRORS.badRequest, '401': ERRORS.unauthorized },
        },
      },
      '/api/firmware': {
        get: {
          tags: ['firmware'],
          summary: 'all firmware updates, oldest first',
          security: [{ bearer: [] }],
          parameters: [
            query('ep', 'only this endpoint'),
            query('status', 'only updates in this status', { enum: [...FIRMWARE_STATUSES] }),
            LIMIT,
            CURSOR,
          ],
          responses: { '200': json(ref('FirmwareUpdatePage'), 'a page'), '400': ERRORS.badRequest, '401': ERRORS.unauthorized },
        },
      },
      '/api/firmware/campaigns': {
        post: {
          tags: ['firmware'],
          summary: 'one firmware update per device of a list or of a prefix*, at most maxConcurrent at once',
          security: [{ bearer: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateFirmwareCampaign') } } },
          responses: {
            '201': json(ref('FirmwareCampaign'), 'made; its first updates started'),
            '400': ERRORS.badRequest,
            '401': ERRORS.unauthorized,
            '404': error('`no_endpoints`: no endpoint the daemon knows matches'),
            '413': ERRORS.tooLarge,
            '415': ERRORS.unsupported,
          },
        },
        get: {
          tags: ['firmware'],
          summary: 'all campaigns, oldest first',
          security: [{ bearer: [] }],
          parameters: [LIMIT, CURSOR],
          responses: { '200': json(ref('FirmwareCampaignPage'), 'a page'), '400': ERRORS.badRequest, '401': ERRORS.unauthorized },
        },
      },
      '/api/firmware/campaigns/{id}': {
        parameters: [path('id', 'a campaign id', { type: 'string', pattern: '^[1-9][0-9]{0,14}$' })],
        get: {
          tags: ['firmware'],
          summary: 'one campaign, its updates counted by status',
          security: [{ bearer: [] }],
          responses: { '200': json(ref('FirmwareCampaign'), 'the campaign'), '401': ERRORS.unauthorized, '404': ERRORS.notFound },
        },
      },
      '/api/firmware/{id}': {
        parameters: [path('id', 'a firmware update id', { type: 'string', pattern: '^[1-9][0-9]{0,14}$' })],
        get: {
          tags: ['firmware'],
          summary: 'one firmware update',
          security: [{ bearer: [] }],
          responses: { '200': json(ref('FirmwareUpdate'), 'the update'), '401': ERRORS.unauthorized, '404': ERRORS.notFound },
        },
        delete: {
          tags: ['firmware'],
          summary: 'cancel a RUNNING update (an empty 5/0/1 is written at the next wake once the device may be downloading)',
          security: [{ bearer: [] }],
          responses: {
            '200': json(ref('FirmwareUpdate'), 'CANCELLED'),
            '401': ERRORS.unauthorized,
            '404': ERRORS.notFound,
            '409': error('the update has ended'),
          },
        },
      },
      '/api/operations': {
        get: {
          tags: ['operations'],
          summary: 'all operations, oldest or newest first',
          security: [{ bearer: [] }],
          parameters: [query('ep', 'only this endpoint'), STATUS, ORDER, LIMIT, CURSOR],
          responses: { '200': json(ref('OperationPage'), 'a page'), '400': ERRORS.badRequest, '401': ERRORS.unauthorized },
        },
      },
      '/api/operations/{id}': {
        parameters: [OPERATION_ID],
        get: {
          tags: ['operations'],
          summary: 'one operation',
          security: [{ bearer: [] }],
          responses: { '200': json(ref('Operation'), 'the operation'), '401': ERRORS.unauthorized, '404': ERRORS.notFound },
        },
        delete: {
          tags: ['operations'],
          summary: 'cancel a QUEUED operation',
          security: [{ bearer: [] }],
          responses: {
            '200': json(ref('Operation'), 'CANCELLED'),
            '401': ERRORS.unauthorized,
            '404': ERRORS.notFound,
            '409': error('the operation is not QUEUED'),
            ...UNAVAILABLE,
          },
        },
      },
      '/api/endpoints': {
        get: {
          tags: ['endpoints'],
          summary: 'endpoints by name: seen since start, or with operations',
          security: [{ bearer: [] }],
          parameters: [LIMIT, CURSOR],
          responses: { '200': json(ref('EndpointPage'), 'a page'), '400': ERRORS.badRequest, '401': ERRORS.unauthorized },
        },
      },
      '/api/endpoints/{ep}': {
        parameters: [EP],
        get: {
          tags: ['endpoints'],
          summary: 'one endpoint',
          security: [{ bearer: [] }],
          responses: { '200': json(ref('Endpoint'), 'the endpoint'), '401': ERRORS.unauthorized, '404': ERRORS.notFound },
        },
      },
      '/health': {
        get: {
          tags: ['daemon'],
          summary: 'every check, strict',
          responses: {
            '200': json(ref('Health'), 'every check ok'),
            '503': json(ref('Health'), 'some check is not ok (degraded included)'),
          },
        },
      },
      '/health/ready': {
        get: {
          tags: ['daemon'],
          summary: 'readiness',
          responses: {
            '200': json(ref('Health'), 'serving, perhaps degraded (InfluxDB down while points are spooled)'),
            '503': json(ref('Health'), 'a check fails outright'),
          },
        },
      },
      '/health/live': {
        get: {
          tags: ['daemon'],
          summary: 'liveness',
          responses: {
            '200': json(
              {
                type: 'object',
                required: ['status', 'uptimeS'],
                additionalProperties: false,
                properties: { status: { const: 'alive' }, uptimeS: { type: 'integer', minimum: 0 } },
              },
              'the process answers',
            ),
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['daemon'],
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        get: {
          tags: ['daemon'],
          summary: 'this document',
          responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1') },
        },
      },
    },
  };
}

/** The routes of the OpenAPI document (`paths`), by path. */
import { FIRMWARE_STATUSES } from '../../firmware/update.js';
import {
  CURSOR,
  EP,
  ERRORS,
  LIMIT,
  OPERATION_ID,
  ORDER,
  STATUS,
  UNAVAILABLE,
  error,
  json,
  path,
  query,
  ref,
  type Schema,
} from './shared.js';

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

export const PATHS: Record<string, Schema> = {
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
          description: 'as for operations: the same key on the same endpoint answers 200 with the update it started; with another body 422',
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
    delete: {
      tags: ['firmware'],
      summary: 'cancel a campaign: no more of its updates start, and its RUNNING ones are cancelled',
      security: [{ bearer: [] }],
      responses: {
        '200': json(ref('FirmwareCampaign'), 'cancelled (cancelledAt set)'),
        '401': ERRORS.unauthorized,
        '404': ERRORS.notFound,
        '409': error('the campaign is done or cancelled already'),
      },
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
};

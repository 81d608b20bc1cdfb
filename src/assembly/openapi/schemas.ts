/** The schemas of the OpenAPI document (`#/components/schemas`). */
import { FIRMWARE_STATUSES, FIRMWARE_STEPS } from '../../firmware/update.js';
import { REGISTRATION_EVENTS } from '../../lwm2m/registrationObject.js';
import { RESOURCE_TYPES } from '../../lwm2m/value.js';
import { OPERATION_KINDS, OPERATION_STATUSES } from '../../operations/operation.js';
import { dateTime, ref, type Schema } from './shared.js';

/** A node of Leshan's JSON (kinds obj, instance, singleResource, multiResource); checked in full by the daemon. */
const NODE: Schema = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { enum: ['obj', 'instance', 'singleResource', 'multiResource'] }, id: { type: 'integer' } },
};

/** The components' schemas: what the routes take and answer. */
export const SCHEMAS: Record<string, Schema> = {
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
      cancelledAt: { ...dateTime, description: 'cancelled by an operator: nothing more is started' },
      counts: {
        type: 'object',
        description: "the campaign's updates by status; WAITING: not started yet (cancelled: never started)",
        additionalProperties: false,
        required: [...FIRMWARE_STATUSES, 'WAITING', 'SKIPPED'],
        properties: Object.fromEntries([...FIRMWARE_STATUSES, 'WAITING', 'SKIPPED'].map((s) => [s, { type: 'integer', minimum: 0 }])),
      },
      done: { type: 'boolean', description: 'nothing RUNNING, and nothing WAITING or the campaign cancelled' },
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

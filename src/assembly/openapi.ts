/**
 * The OpenAPI 3.1 description of every route the daemon serves, served at `GET /openapi.json`: its schemas in
 * `openapi/schemas.ts`, its routes in `openapi/paths.ts`. Enumerations come from the code (kinds, statuses, types),
 * and test/assembly/openapi.test.ts checks the document against the OpenAPI 3.1 schema and every real answer of
 * every route against it, so it cannot drift unnoticed.
 */
import { PATHS } from './openapi/paths.js';
import { SCHEMAS } from './openapi/schemas.js';
import type { Schema } from './openapi/shared.js';

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
    paths: PATHS,
  };
}

/**
 * The OpenAPI document is true: it is valid OpenAPI 3.1, it names every route the daemon serves, and every
 * answer of every route (successes and errors, from the real daemon with a Leshan double behind it) has a
 * status the document lists and a body its schema accepts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../../src/assembly/openapi.js';
import { endpointRoutes } from '../../src/endpoints/endpointRoutes.js';
import { healthRoutes } from '../../src/http/healthRoutes.js';
import { LESHAN_POST_PATHS } from '../../src/ingest/leshanHandler.js';
import { openApiRoute } from '../../src/http/openApiRoute.js';
import { operatorRoutes } from '../../src/operations/operatorRoutes.js';
import { firmwareRoutes } from '../../src/firmware/routes.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, type RunningController } from '../support/controllerHarness.js';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
const doc = openApiDocument('0.0.0-test') as unknown as Doc;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

/** `/api/operations/{id}` for the router's `/api/operations/:id`. */
const template = (routerPath: string): string => routerPath.replace(/:(\w+)/g, '{$1}');
const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const result = await new Validator().validate(doc as never);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal((doc as unknown as { openapi: string }).openapi, '3.1.0');
  });

  it('describes every route of the routers and of the Leshan fast path, and nothing else', () => {
    const stub = {} as never;
    const routers = [
      healthRoutes({}, stub),
      openApiRoute({}),
      operatorRoutes({ store: stub, queued: () => {}, now: Date.now }),
      endpointRoutes({ registry: stub, endpointsWithOperations: () => [], pendingCount: () => 0 }),
      firmwareRoutes({ driver: stub, repository: stub, campaigns: stub, endpointNames: () => [] }),
    ];
    const served = new Set<string>();
    for (const router of routers) {
      for (const layer of router.stack) {
        for (const method of layer.methods) if (method !== 'HEAD') served.add(`${method.toLowerCase()} ${template(String(layer.path))}`);
      }
    }
    for (const path of LESHAN_POST_PATHS) served.add(`post ${path}`);
    const documented = new Set<string>();
    for (const [p, item] of Object.entries(doc.paths)) for (const m of METHODS) if (item[m]) documented.add(`${m} ${p}`);
    const missing = [...served].filter((r) => !documented.has(r));
    assert.deepEqual(missing, [], 'served but not documented');
    const extra = [...documented].filter((r) => !served.has(r));
    assert.deepEqual(extra, [], 'documented but not served');
  });
});

describe('every answer of the real daemon matches the OpenAPI document', () => {
  const TOKEN = 'openapi-token';
  let leshan: LeshanDouble;
  let daemon: RunningController;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
  /** `METHOD template status` of each answer checked. */
  const checked = new Set<string>();

  /** Calls the daemon and checks the answer against the document; returns the parsed body. */
  async function call(
    method: string,
    pathTemplate: string,
    url: string,
    options: { body?: unknown; raw?: string; type?: string; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== null) headers.authorization = `Bearer ${options.token ?? TOKEN}`;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const res = await fetch(daemon.url + url, { method, headers, ...(body !== undefined && { body }) });
    const text = await res.text();
    const m = method.toLowerCase();
    const operation = doc.paths[pathTemplate]?.[m];
    assert.ok(operation, `${method} ${pathTemplate} is not in the document`);
    const response = operation.responses[String(res.status)];
    assert.ok(response, `${method} ${url} answered ${res.status}, which the document does not list for ${pathTemplate}: ${text}`);
    const [mediaType] = Object.keys(response.content ?? {});
    assert.ok(mediaType, `no content documented for ${method} ${pathTemplate} ${res.status}`);
    assert.ok((res.headers.get('content-type') ?? '').startsWith(mediaType), `${res.headers.get('content-type')} is not ${mediaType}`);
    let parsed: unknown = text;
    if (mediaType === 'application/json') {
      parsed = JSON.parse(text);
      const ref = `openapi.json#/${pointer('paths', pathTemplate, m, 'responses', String(res.status), 'content', mediaType, 'schema')}`;
      const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
      assert.ok(validate(parsed), `${method} ${url} ${res.status}: ${ajv.errorsText(validate.errors)} in ${text}`);
    }
    checked.add(`${m} ${pathTemplate} ${res.status}`);
    return { status: res.status, body: parsed };
  }

  before(async () => {
    leshan = await startLeshanDouble({ heartbeatMs: 100 });
    daemon = await startController({ leshan: { url: leshan.url, ingress: 'posts' }, auth: { token: TOKEN } });
  });
  after(async () => {
    await daemon?.stop();
    await leshan?.close();
  });

  it('the Leshan routes: accepted, malformed, wrong type, too large, wrong method', async () => {
    leshan.register({ endpoint: 'dev1', queueMode: true });
    const registered = { ep: 'dev1', obj_id: 10240, val: { kind: 'singleResource', id: 0, type: 'TIME', value: Date.now() } };
    assert.equal(
      (await call('POST', '/leshan_api/resource/single', '/leshan_api/resource/single', { body: registered, token: null })).status,
      201,
    );
    const composite = {
      ep: 'dev1',
      val: { '/3303/0/5700': { kind: 'singleResource', id: 5700, type: 'FLOAT', value: 21.5 }, '/3303/1/5700': null },
    };
    const accepted = await call('POST', '/leshan_api/resource/composite', '/leshan_api/resource/composite', {
      body: composite,
      token: null,
    });
    assert.deepEqual(accepted.body, { accepted: 1, nullNodes: 1 });
    const timestamped = {
      ep: 'dev1',
      val: [
        {
          '2026-11-28T10:00:00.123456789Z': { nodes: { '/3303/0/5700': { kind: 'singleResource', id: 5700, type: 'FLOAT', value: 20.5 } } },
        },
        { null: { nodes: { '/3303/0/5700': { kind: 'singleResource', id: 5700, type: 'FLOAT', value: 20.75 } } } },
      ],
    };
    const stamped = await call('POST', '/leshan_api/resource/timestamped', '/leshan_api/resource/timestamped', {
      body: timestamped,
      token: null,
    });
    assert.equal(stamped.status, 201, JSON.stringify(stamped.body));
    assert.equal(
      (await call('POST', '/leshan_api/resource/single', '/leshan_api/resource/single', { raw: '{"ep":', token: null })).status,
      400,
    );
    assert.equal(
      (await call('POST', '/leshan_api/resource/single', '/leshan_api/resource/single', { raw: '{}', type: 'text/plain', token: null }))
        .status,
      415,
    );
    const big = { ep: 'dev1', val: { '/3/0/0': { kind: 'singleResource', id: 0, type: 'STRING', value: 'x'.repeat(2_000_000) } } };
    assert.equal(
      (await call('POST', '/leshan_api/resource/composite', '/leshan_api/resource/composite', { body: big, token: null })).status,
      413,
    );
    const get = await fetch(`${daemon.url}/leshan_api/resource/single`);
    assert.equal(get.status, 405);
    await get.text();
  });

  it('the operator routes: create, replay, list, get, cancel, and their errors', async () => {
    const path = '/api/endpoints/{ep}/operations';
    const read = await call('POST', path, '/api/endpoints/dev1/operations', { body: { kind: 'read', path: '/3303/0/5700' } });
    assert.equal(read.status, 201);
    const keyed = { body: { kind: 'write', path: '/3303/0/5750', value: 'lab' }, headers: { 'idempotency-key': 'k1' } };
    assert.equal((await call('POST', path, '/api/endpoints/offline1/operations', keyed)).status, 404, 'never seen');
    const created = await call('POST', path, '/api/endpoints/offline1/operations?allowUnseen=true', keyed);
    assert.equal(created.status, 201);
    assert.equal((await call('POST', path, '/api/endpoints/offline1/operations', keyed)).status, 200);
    const other = { ...keyed, body: { kind: 'read', path: '/3/0/0' } };
    assert.equal((await call('POST', path, '/api/endpoints/offline1/operations', other)).status, 422);
    assert.equal((await call('POST', path, '/api/endpoints/dev1/operations', { body: { kind: 'fly', path: '/1' } })).status, 400);
    assert.equal((await call('POST', path, '/api/endpoints/dev1/operations', { body: {}, token: 'wrong' })).status, 401);
    assert.equal((await call('POST', path, '/api/endpoints/dev1/operations', { raw: 'kind=read', type: 'text/plain' })).status, 415);
    assert.equal((await call('GET', path, '/api/endpoints/dev1/operations?status=QUEUED&limit=5')).status, 200);
    assert.equal((await call('GET', path, '/api/endpoints/dev1/operations?limit=0')).status, 400);

    // the read reaches the double (dev1 is awake after its registration) and is CONFIRMED with its content
    let op: any;
    for (let i = 0; i < 100; i++) {
      op = (await call('GET', '/api/operations/{id}', `/api/operations/${read.body.id}`)).body;
      if (op.status === 'CONFIRMED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(op.status, 'CONFIRMED');
    assert.ok(op.result, 'a confirmed read carries its result');

    const page = await call('GET', '/api/operations', '/api/operations?limit=1');
    assert.equal(page.body.items.length, 1);
    assert.ok(page.body.next);
    assert.equal((await call('GET', '/api/operations', `/api/operations?cursor=${page.body.next}&ep=offline1`)).status, 200);
    assert.equal((await call('GET', '/api/operations', '/api/operations?status=nope')).status, 400);
    assert.equal((await call('GET', '/api/operations/{id}', '/api/operations/999999')).status, 404);
    assert.equal((await call('DELETE', '/api/operations/{id}', `/api/operations/${created.body.id}`)).status, 200);
    assert.equal((await call('DELETE', '/api/operations/{id}', `/api/operations/${created.body.id}`)).status, 409);
    assert.equal((await call('DELETE', '/api/operations/{id}', '/api/operations/999999')).status, 404);
  });

  it('the firmware routes: start, replay, conflict, list, get, cancel, and their errors', async () => {
    const path = '/api/endpoints/{ep}/firmware';
    const body = { uri: 'coap://fw.example/pkg.bin', version: '2.0' };
    assert.equal((await call('POST', path, '/api/endpoints/fw-nobody/firmware', { body })).status, 404);
    const started = await call('POST', path, '/api/endpoints/fw-openapi/firmware?allowUnseen=true', {
      body,
      headers: { 'idempotency-key': 'f1' },
    });
    assert.equal(started.status, 201);
    assert.equal(
      (await call('POST', path, '/api/endpoints/fw-openapi/firmware', { body, headers: { 'idempotency-key': 'f1' } })).status,
      200,
    );
    const other = { body: { ...body, version: '3' }, headers: { 'idempotency-key': 'f1' } };
    assert.equal((await call('POST', path, '/api/endpoints/fw-openapi/firmware', other)).status, 422);
    assert.equal((await call('POST', path, '/api/endpoints/fw-openapi/firmware', { body })).status, 409);
    assert.equal((await call('POST', path, '/api/endpoints/fw-openapi/firmware', { body: { uri: 'x' } })).status, 400);
    assert.equal((await call('POST', path, '/api/endpoints/fw-openapi/firmware', { body, token: 'wrong' })).status, 401);
    assert.equal((await call('POST', path, '/api/endpoints/fw-openapi/firmware', { raw: 'uri=x', type: 'text/plain' })).status, 415);
    assert.equal((await call('GET', path, '/api/endpoints/fw-openapi/firmware?status=RUNNING')).status, 200);
    assert.equal((await call('GET', path, '/api/endpoints/fw-openapi/firmware?status=nope')).status, 400);
    assert.equal((await call('GET', '/api/firmware', '/api/firmware?limit=1&ep=fw-openapi')).body.items.length, 1);
    assert.equal((await call('GET', '/api/firmware', '/api/firmware?limit=0')).status, 400);
    assert.equal((await call('GET', '/api/firmware/{id}', `/api/firmware/${started.body.id}`)).status, 200);
    assert.equal((await call('GET', '/api/firmware/{id}', '/api/firmware/999999')).status, 404);
    assert.equal((await call('DELETE', '/api/firmware/{id}', `/api/firmware/${started.body.id}`)).status, 200);
    assert.equal((await call('DELETE', '/api/firmware/{id}', `/api/firmware/${started.body.id}`)).status, 409);
    assert.equal((await call('DELETE', '/api/firmware/{id}', '/api/firmware/999999')).status, 404);
    assert.equal((await call('GET', path, '/api/endpoints/fw-openapi/firmware')).status, 200);
    assert.equal((await call('GET', '/api/firmware', '/api/firmware')).status, 200);

    const campaigns = '/api/firmware/campaigns';
    const campaign = await call('POST', campaigns, campaigns, { body: { ...body, endpoints: ['fw-c1', 'fw-c2'], maxConcurrent: 1 } });
    assert.equal(campaign.status, 201);
    assert.deepEqual(campaign.body.counts, { RUNNING: 1, SUCCEEDED: 0, FAILED: 0, CANCELLED: 0, WAITING: 1, SKIPPED: 0 });
    assert.equal((await call('POST', campaigns, campaigns, { body: { ...body, match: 'nothing-here-*' } })).status, 404);
    assert.equal((await call('POST', campaigns, campaigns, { body: { ...body, match: 'fw-' } })).status, 400);
    assert.equal((await call('GET', campaigns, `${campaigns}?limit=1`)).body.items.length, 1);
    assert.equal((await call('GET', '/api/firmware/campaigns/{id}', `${campaigns}/${campaign.body.id}`)).status, 200);
    assert.equal((await call('GET', '/api/firmware/campaigns/{id}', `${campaigns}/999999`)).status, 404);
    const cancelled = await call('DELETE', '/api/firmware/campaigns/{id}', `${campaigns}/${campaign.body.id}`);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.counts.CANCELLED, 1);
    assert.equal((await call('DELETE', '/api/firmware/campaigns/{id}', `${campaigns}/${campaign.body.id}`)).status, 409);
    assert.equal((await call('DELETE', '/api/firmware/campaigns/{id}', `${campaigns}/999999`)).status, 404);
  });

  it('the endpoint, health and document routes', async () => {
    assert.equal((await call('GET', '/api/endpoints', '/api/endpoints?limit=1')).status, 200);
    assert.equal((await call('GET', '/api/endpoints', '/api/endpoints?limit=x')).status, 400);
    assert.equal((await call('GET', '/api/endpoints', '/api/endpoints', { token: null })).status, 401);
    const dev1 = await call('GET', '/api/endpoints/{ep}', '/api/endpoints/dev1');
    assert.equal(dev1.body.lastEvent.type, 'registered');
    assert.equal((await call('GET', '/api/endpoints/{ep}', '/api/endpoints/never-seen')).status, 404);
    for (const p of ['/health', '/health/ready', '/health/live', '/metrics', '/openapi.json']) await call('GET', p, p, { token: null });
  });

  it('checked an answer of every documented operation, and a success of each but /health (no InfluxDB here: 503)', () => {
    const unchecked: string[] = [];
    const noSuccess: string[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        if (!item[m]) continue;
        if (![...checked].some((c) => c.startsWith(`${m} ${p} `))) unchecked.push(`${m} ${p}`);
        else if (![...checked].some((c) => c.startsWith(`${m} ${p} 2`))) noSuccess.push(`${m} ${p}`);
      }
    }
    assert.deepEqual(unchecked, []);
    assert.deepEqual(noSuccess, ['get /health']);
  });
});

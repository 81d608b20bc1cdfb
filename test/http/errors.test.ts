import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { createApp } from '../../src/http/app.js';
import { badRequest, conflict, HttpError, toHttpError } from '../../src/http/errors.js';
import { testLogger } from '../support/config.js';

describe('the error handler', () => {
  let server: Server;
  let url: string;
  before(async () => {
    const router = new Router();
    router.post('/echo', (ctx) => {
      ctx.body = { got: ctx.request.body };
    });
    router.get('/bad', () => {
      throw badRequest('bad_thing', 'field "x" is wrong', { field: 'x' });
    });
    router.get('/conflict', () => {
      throw conflict('operation 7 is SENDING');
    });
    router.get('/boom', () => {
      throw new Error('secret internal detail at /etc/passwd');
    });
    router.get('/boom-async', async () => {
      await Promise.resolve();
      throw Object.assign(new Error('db is on fire'), { status: 500 });
    });
    const app = createApp({ log: testLogger(), bodyLimitBytes: 1024, routers: [router] });
    server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  async function call(
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; body: { error?: { code: string; message: string; details?: unknown } } }> {
    const res = await fetch(url + path, init);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    return { status: res.status, body: (await res.json()) as never };
  }
  const post = (body: string, type = 'application/json'): RequestInit => ({ method: 'POST', headers: { 'content-type': type }, body });

  it('passes good JSON through', async () => {
    const r = await call('/echo', post('{"a":1}'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { got: { a: 1 } });
  });

  it('answers 400 malformed_json for a body that is not JSON', async () => {
    const r = await call('/echo', post('{"a":'));
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.code, 'malformed_json');
    assert.match(r.body.error?.message ?? '', /not valid JSON/);
  });

  it('answers 400 for a JSON scalar at the top (strict mode)', async () => {
    const r = await call('/echo', post('"just a string"'));
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.code, 'malformed_json');
  });

  it('answers 413 body_too_large over the limit', async () => {
    const r = await call('/echo', post(JSON.stringify({ a: 'x'.repeat(2000) })));
    assert.equal(r.status, 413);
    assert.equal(r.body.error?.code, 'body_too_large');
    assert.match(r.body.error?.message ?? '', /1024 bytes/);
  });

  it('keeps the code, message and details of an HttpError', async () => {
    const r = await call('/bad');
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: { code: 'bad_thing', message: 'field "x" is wrong', details: { field: 'x' } } });
    const c = await call('/conflict');
    assert.equal(c.status, 409);
    assert.equal(c.body.error?.code, 'conflict');
  });

  it('hides internals behind a bare 500', async () => {
    for (const path of ['/boom', '/boom-async']) {
      const r = await call(path);
      assert.equal(r.status, 500);
      assert.deepEqual(r.body, { error: { code: 'internal', message: 'internal error' } });
    }
  });

  it('answers JSON 404 for an unknown route and 405 for a wrong method', async () => {
    const nf = await call('/nowhere');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error?.code, 'not_found');
    assert.match(nf.body.error?.message ?? '', /GET \/nowhere/);
    const na = await call('/bad', { method: 'DELETE' });
    assert.equal(na.status, 405);
    assert.equal(na.body.error?.code, 'method_not_allowed');
  });

  it('names the allowed methods of a 405 in its Allow header and message', async () => {
    const res = await fetch(`${url}/echo`, { method: 'GET' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'method_not_allowed');
    assert.match(body.error.message, /GET is not allowed on \/echo; allowed: POST/);
  });

  it('answers 415 naming the content type for a body that is not JSON, and takes JSON types with parameters or +json', async () => {
    const text = await call('/echo', post('{"a":1}', 'text/plain'));
    assert.equal(text.status, 415);
    assert.equal(text.body.error?.code, 'unsupported_media_type');
    assert.match(text.body.error?.message ?? '', /must be JSON .*"text\/plain"/);
    const form = await call('/echo', post('a=1', 'application/x-www-form-urlencoded'));
    assert.equal(form.status, 415);
    const none = await fetch(`${url}/echo`, { method: 'POST', body: new Blob(['{"a":1}']) });
    assert.equal(none.status, 415);
    assert.match(((await none.json()) as { error: { message: string } }).error.message, /without a Content-Type/);
    assert.equal((await call('/echo', post('{"a":1}', 'application/json; charset=utf-8'))).status, 200);
    assert.equal((await call('/echo', post('{"a":1}', 'application/merge-patch+json'))).status, 200);
  });
});

describe('toHttpError', () => {
  it('maps framework errors by type and status and never exposes unknown ones', () => {
    assert.equal(toHttpError(Object.assign(new Error('x'), { type: 'entity.too.large', limit: 5 })).status, 413);
    assert.equal(toHttpError(Object.assign(new Error('x'), { status: 415, expose: true })).code, 'unsupported_media_type');
    assert.equal(toHttpError(Object.assign(new Error('x'), { status: 404, expose: false })).status, 500);
    assert.equal(toHttpError('a string').status, 500);
    const own = new HttpError(422, 'custom', 'm');
    assert.equal(toHttpError(own), own);
  });
});

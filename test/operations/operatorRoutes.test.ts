import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startController, type RunningController } from '../support/controllerHarness.js';
import { operator, postRegistration } from '../support/fleet.js';
import type { Operation } from '../../src/operations/operation.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';

const TOKEN = 's3cret-token';

describe('operator API', () => {
  let d: RunningController;
  let api: ReturnType<typeof operator>;
  before(async () => {
    // Leshan is not running: nothing is delivered, operations stay QUEUED (devices never wake here)
    d = await startController({ auth: { token: TOKEN }, leshan: { url: 'http://127.0.0.1:9' }, influx: { url: 'http://127.0.0.1:9' } });
    api = operator(d, TOKEN);
  });
  after(async () => {
    await d?.stop();
  });

  it('queues an operation, on disk before the 201, with the fields the README documents', async () => {
    const r = await api.queue('dev-a', { kind: 'write', path: '/5/0/1', value: 'https://x/fw.bin' });
    assert.equal(r.status, 201);
    const op = r.body as Operation;
    assert.equal(r.headers.get('location'), `/api/operations/${op.id}`);
    assert.deepEqual(Object.keys(op).sort(), ['attempts', 'createdAt', 'ep', 'id', 'kind', 'path', 'status', 'type', 'updatedAt', 'value']);
    assert.equal(op.status, 'QUEUED');
    assert.equal(op.type, 'STRING');
    assert.equal(op.attempts, 0);
    // the snapshot and its journal segments (docs/store.md): the change is in one of them when the 201 arrives
    const files = (await readdir(d.dataDir)).filter((f) => f.startsWith('operations.json'));
    const onDisk = (await Promise.all(files.map((f) => readFile(path.join(d.dataDir, f), 'utf8')))).join('\n');
    assert.ok(onDisk.includes(`"https://x/fw.bin"`), 'the operation is on disk when the 201 arrives');
    assert.deepEqual((await api.get(op.id)).body, op);
  });

  it('answers 400 naming the field for bad input, and stores nothing', async () => {
    const before = (await api.call('GET', '/api/operations?limit=1000')).body.items.length;
    const cases: [unknown, string][] = [
      [{ kind: 'write', path: '/5/0/1' }, 'value'],
      [{ kind: 'teleport', path: '/5/0/1' }, 'kind'],
      [{ kind: 'write', path: 'five', value: 1 }, 'path'],
      [{ kind: 'write', path: '/1/0/1', value: 'x' }, 'value'],
    ];
    for (const [body, field] of cases) {
      const r = await api.queue('dev-a', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'invalid_operation');
      assert.equal(r.body.error.details.field, field);
      assert.match(r.body.error.message, new RegExp(`^${field}: `));
    }
    const malformed = await fetch(`${d.url}/api/endpoints/dev-a/operations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"kind":',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'malformed_json');
    assert.equal((await api.call('GET', '/api/operations?limit=1000')).body.items.length, before);
  });

  it('lists per endpoint and filters by status and endpoint, oldest first, page by page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.queue('dev-list', { kind: 'read', path: `/3/0/${i}` })).body.id);
    await api.cancel(ids[1]!);
    const all = await api.call('GET', '/api/endpoints/dev-list/operations');
    assert.deepEqual(
      all.body.items.map((o: Operation) => o.id),
      ids,
    );
    const queued = await api.call('GET', '/api/operations?ep=dev-list&status=QUEUED');
    assert.deepEqual(
      queued.body.items.map((o: Operation) => o.id),
      [ids[0], ids[2], ids[3], ids[4]],
    );
    const page1 = await api.call('GET', '/api/endpoints/dev-list/operations?limit=2');
    assert.deepEqual(
      page1.body.items.map((o: Operation) => o.id),
      ids.slice(0, 2),
    );
    const page2 = await api.call('GET', `/api/endpoints/dev-list/operations?limit=2&cursor=${page1.body.next}`);
    assert.deepEqual(
      page2.body.items.map((o: Operation) => o.id),
      ids.slice(2, 4),
    );
    const page3 = await api.call('GET', `/api/endpoints/dev-list/operations?limit=2&cursor=${page2.body.next}`);
    assert.deepEqual(
      page3.body.items.map((o: Operation) => o.id),
      ids.slice(4),
    );
    assert.equal(page3.body.next, undefined);
    for (const bad of ['limit=0', 'limit=5000', 'limit=x', 'status=DONE', 'cursor=abc']) {
      const r = await api.call('GET', `/api/operations?${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error.code, 'invalid_query');
    }
  });

  it('cancels a QUEUED operation, and answers 409 for any other, 404 for an unknown one', async () => {
    const op = (await api.queue('dev-c', { kind: 'execute', path: '/3/0/4' })).body as Operation;
    const cancelled = await api.cancel(op.id);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'CANCELLED');
    const again = await api.cancel(op.id);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
    assert.match(again.body.error.message, /CANCELLED/);
    assert.equal((await api.cancel('999999')).status, 404);
    assert.equal((await api.get('999999')).status, 404);
  });

  it('returns the same operation for a retried POST with the same Idempotency-Key', async () => {
    const body = { kind: 'write', path: '/1/0/1', value: 120 };
    const first = await api.queue('dev-i', body, { 'idempotency-key': 'k-1' });
    const second = await api.queue('dev-i', body, { 'idempotency-key': 'k-1' });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.body, first.body);
    const reused = await api.queue('dev-i', { ...body, value: 121 }, { 'idempotency-key': 'k-1' });
    assert.equal(reused.status, 422, 'the same key with another request is refused');
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
    const other = await api.queue('dev-i', body, { 'idempotency-key': 'k-2' });
    assert.notEqual(other.body.id, first.body.id);
    assert.equal((await api.call('GET', '/api/endpoints/dev-i/operations')).body.items.length, 2);
  });

  it('shows endpoints with their state, last registration event and pending count', async () => {
    await api.queue('dev-e', { kind: 'read', path: '/3/0/0' });
    await postRegistration(d, 'dev-e', 'deregistered');
    const one = await api.call('GET', '/api/endpoints/dev-e');
    assert.equal(one.status, 200);
    assert.equal(one.body.state, 'offline');
    assert.equal(one.body.pending, 1);
    assert.equal(one.body.lastEvent.type, 'deregistered');
    const list = await api.call('GET', '/api/endpoints');
    assert.ok(
      list.body.items.some((e: { ep: string }) => e.ep === 'dev-a'),
      'an endpoint known only from its operations is listed',
    );
    assert.equal((await api.call('GET', '/api/endpoints/never-seen')).status, 404);
    const page = await api.call('GET', '/api/endpoints?limit=1');
    assert.equal(page.body.items.length, 1);
    const next = await api.call('GET', `/api/endpoints?limit=1&cursor=${encodeURIComponent(page.body.next)}`);
    assert.ok(next.body.items[0].ep > page.body.items[0].ep);
  });

  it('takes limit the same way on every list: digits 1-1000 only', async () => {
    for (const route of ['/api/operations', '/api/endpoints', '/api/endpoints/dev-a/operations']) {
      for (const limit of ['1e2', '0x10', '0', '1001', '-1', '2.5']) {
        const r = await api.call('GET', `${route}?limit=${limit}`);
        assert.equal(r.status, 400, `${route}?limit=${limit}`);
        assert.equal(r.body.error.details.field, 'limit');
      }
      assert.equal((await api.call('GET', `${route}?limit=1&limit=2`)).status, 400, 'given twice');
      if (route !== '/api/endpoints') {
        const zero = await api.call('GET', `${route}?cursor=007`);
        assert.equal(zero.status, 400, 'a cursor the API never gave out (it answered 500 when the route and the store disagreed)');
        assert.equal(zero.body.error.details.field, 'cursor');
      }
      assert.equal((await api.call('GET', `${route}?limit=1000`)).status, 200);
    }
  });

  it('needs the bearer token on /api, and only there', async () => {
    const none = await fetch(`${d.url}/api/operations`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="lwm2m-backend"');
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
    const wrong = await operator(d, 'nope').call('GET', '/api/operations');
    assert.equal(wrong.status, 401);
    const prefix = await operator(d, TOKEN.slice(0, -1)).call('GET', '/api/endpoints');
    assert.equal(prefix.status, 401);
    assert.equal((await fetch(`${d.url}/health`)).status === 401, false);
    const post = await d.post('/leshan_api/resource/single', {
      ep: 'x',
      obj_id: 3,
      val: { kind: 'singleResource', id: 0, type: 'STRING', value: 'a' },
    });
    assert.equal(post.status, 201, 'Leshan posts are guarded by the address allow-list, not the token');
  });

  it('checks the token before reading the body: a huge or malformed body without a token is 401, not 413 or 400', async () => {
    const huge = await fetch(`${d.url}/api/endpoints/dev-a/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"x":"${'a'.repeat(3 * 1024 * 1024)}"}`,
    });
    assert.equal(huge.status, 401);
    const malformed = await fetch(`${d.url}/api/endpoints/dev-a/operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"kind":',
    });
    assert.equal(malformed.status, 401);
    const tooBig = await operator(d, TOKEN).call('POST', '/api/endpoints/dev-a/operations', {
      kind: 'write',
      path: '/5/0/1',
      value: 'a'.repeat(2 * 1024 * 1024),
    });
    assert.equal(tooBig.status, 413, 'with the token, the body limit applies as before');
  });

  it('refuses endpoint names Leshan cannot address, before storing anything', async () => {
    const before = (await api.call('GET', '/api/operations?limit=1000')).body.items.length;
    for (const ep of ['a/b', 'a;b', 'a%b', 'tab\there', 'back\\slash', 'x'.repeat(257)]) {
      const r = await api.queue(ep, { kind: 'read', path: '/3/0/0' });
      assert.equal(r.status, 400, `${JSON.stringify(ep)}: ${r.status}`);
      assert.equal(r.body.error.details.field, 'ep', JSON.stringify(r.body));
    }
    // names that reach the route decoded: %2F is a slash, %3B a semicolon, %25 a percent sign
    for (const raw of ['a%2Fb', 'a%3Bb', 'a%25b']) {
      const r = await api.call('POST', `/api/endpoints/${raw}/operations`, { kind: 'read', path: '/3/0/0' });
      assert.equal(r.status, 400, `${raw}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.details.field, 'ep');
    }
    assert.equal((await api.call('GET', '/api/operations?limit=1000')).body.items.length, before, 'nothing stored');
  });

  it('lists newest first with ?order=newest, page by page, and filters by several statuses in any case', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await api.queue('lister', { kind: 'read', path: `/3/0/${i}` })).body as Operation).id);
    await api.cancel(ids[1]!);
    await api.cancel(ids[3]!);
    const page = async (q: string) =>
      (await api.call('GET', `/api/endpoints/lister/operations?${q}`)).body as { items: Operation[]; next?: string };
    const first = await page('order=newest&limit=2');
    assert.deepEqual(
      first.items.map((o) => o.id),
      [ids[4], ids[3]],
    );
    const second = await page(`order=newest&limit=2&cursor=${first.next}`);
    assert.deepEqual(
      second.items.map((o) => o.id),
      [ids[2], ids[1]],
    );
    const last = await page(`order=newest&limit=2&cursor=${second.next}`);
    assert.deepEqual(
      last.items.map((o) => o.id),
      [ids[0]],
    );
    assert.equal(last.next, undefined);
    assert.deepEqual(
      (await page('order=oldest')).items.map((o) => o.id),
      ids,
    );
    assert.deepEqual(
      (await page('status=cancelled')).items.map((o) => o.id),
      [ids[1], ids[3]],
    );
    assert.deepEqual((await page('status=Cancelled,QUEUED')).items.length, 5);
    assert.deepEqual(
      (await page('status=queued&status=CANCELLED&order=newest&limit=1')).items.map((o) => o.id),
      [ids[4]],
    );
    const bad = await api.call('GET', '/api/endpoints/lister/operations?status=queued,done');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /status "done" is not one of QUEUED, SENDING/);
    assert.equal((await api.call('GET', '/api/operations?order=sideways')).status, 400);
  });

  it('reports operations by status and endpoints by state in /metrics', async () => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    const queued = Number(/lwm2m_backend_operations\{status="QUEUED"\} (\d+)/.exec(text)?.[1]);
    const listed = (await api.call('GET', '/api/operations?status=QUEUED&limit=1000')).body.items.length;
    assert.equal(queued, listed);
    assert.match(text, /lwm2m_backend_operations\{status="CANCELLED"\} [1-9]/);
    assert.match(text, /lwm2m_backend_endpoints\{state="offline"\} [1-9]/);
  });
});

describe('an operation for an endpoint nobody has seen', () => {
  let leshan: LeshanDouble;
  let d: RunningController;
  let api: ReturnType<typeof operator>;
  before(async () => {
    leshan = await startLeshanDouble({});
    d = await startController({ leshan: { url: leshan.url }, endpoints: { expected: ['factory-*', 'spare-1'] } });
    api = operator(d);
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
  });

  it('is refused with 404 naming the endpoint and the way out, and nothing is stored or remembered', async () => {
    const r = await api.queue('qemu_x68', { kind: 'read', path: '/3/0/0' });
    assert.equal(r.status, 404, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'unknown_endpoint');
    assert.equal(r.body.error.details.field, 'ep');
    assert.match(r.body.error.message, /qemu_x68 has never been seen.*allowUnseen=true/);
    assert.equal((await api.call('GET', '/api/operations?ep=qemu_x68')).body.items.length, 0);
    assert.equal((await api.call('GET', '/api/endpoints/qemu_x68')).status, 404, 'the typo did not become an endpoint');
  });

  it('is taken with ?allowUnseen=true, and the endpoint is known from then on (it has operations)', async () => {
    const r = await api.call('POST', '/api/endpoints/later-1/operations?allowUnseen=true', { kind: 'read', path: '/3/0/0' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((await api.queue('later-1', { kind: 'read', path: '/3/0/1' })).status, 201);
  });

  it('is taken when endpoints.expected lists its name or a prefix of it', async () => {
    assert.equal((await api.queue('factory-0042', { kind: 'read', path: '/3/0/0' })).status, 201);
    assert.equal((await api.queue('spare-1', { kind: 'read', path: '/3/0/0' })).status, 201);
    assert.equal((await api.queue('spare-2', { kind: 'read', path: '/3/0/0' })).status, 404);
  });

  it('is taken when Leshan has it registered (the daemon has seen nothing since its start) or the daemon saw it register', async () => {
    leshan.register({ endpoint: 'known-to-leshan', queueMode: true });
    assert.equal((await api.queue('known-to-leshan', { kind: 'read', path: '/3/0/0' })).status, 201);
    await postRegistration(d, 'posted-1', 'registered');
    assert.equal((await api.queue('posted-1', { kind: 'read', path: '/3/0/0' })).status, 201);
  });
});

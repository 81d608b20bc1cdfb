import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Controller } from '../../src/controller.js';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { freePort } from '../../tools/ports.js';
import { testConfig, testLogger } from '../support/config.js';

interface Health {
  status: string;
  failing?: string[];
  checks: Record<string, { status: string; state?: string; error?: string; url?: string }>;
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/health with a real InfluxDB', () => {
  let influxd: Influxd;
  let leshan: LeshanDouble;
  let controller: Controller;
  let dataDir: string;
  let url: string;
  const get = async (): Promise<{ status: number; body: Health }> => {
    const res = await fetch(`${url}/health`);
    return { status: res.status, body: (await res.json()) as Health };
  };

  before(async () => {
    leshan = await startLeshanDouble({}); // /health as a whole also needs Leshan to answer
    influxd = await startInfluxd();
    dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-health-'));
    const port = await freePort();
    controller = new Controller(
      testConfig({
        http: { port },
        dataDir,
        leshan: { url: leshan.url },
        influx: { url: influxd.url, database: 'health_db', connectIntervalMs: 100 },
      }),
      testLogger(),
    );
    await controller.start();
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await controller?.stop();
    await influxd?.destroy();
    await leshan?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is 200 ok once connected, and the 1.x database has been created', async () => {
    const { status, body } = await waitFor(get, (r) => r.status === 200);
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.checks.influx?.status, 'ok');
    const dbs = await influxd.query('SHOW DATABASES');
    const names = dbs.results[0]?.series?.[0]?.values.map((v) => v[0]);
    assert.ok(names?.includes('health_db'), JSON.stringify(names));
  });

  it('turns 503 naming the influx check when InfluxDB stops, and ok again when it is back', async () => {
    await influxd.stop();
    const down = await waitFor(get, (r) => r.status === 503);
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'fail');
    assert.deepEqual(down.body.failing, ['influx']);
    assert.equal(down.body.checks.influx?.state, 'down');
    assert.match(down.body.checks.influx?.error ?? '', /ECONNREFUSED|ECONNRESET|other side closed/, 'the connection error is named');
    await influxd.start();
    const up = await waitFor(get, (r) => r.status === 200);
    assert.equal(up.status, 200);
    assert.equal(up.body.checks.influx?.state, 'up');
  });

  it('re-creates the database when InfluxDB comes back without it', async () => {
    await influxd.query('DROP DATABASE health_db');
    await influxd.stop();
    await waitFor(get, (r) => r.status === 503);
    await influxd.start();
    await waitFor(get, (r) => r.status === 200);
    const dbs = await influxd.query('SHOW DATABASES');
    assert.ok(dbs.results[0]?.series?.[0]?.values.some((v) => v[0] === 'health_db'));
  });
});

/** A started daemon whose Leshan and InfluxDB are a port nobody listens on (`influx` made from that port). */
async function withoutInfluxOrLeshan(influx: (deadPort: number) => { url: string; connectIntervalMs?: number }) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-health-'));
  const port = await freePort();
  const deadPort = await freePort();
  const controller = new Controller(
    testConfig({ http: { port }, dataDir, leshan: { url: `http://127.0.0.1:${deadPort}` }, influx: influx(deadPort) }),
    testLogger(),
  );
  await controller.start();
  return { controller, port, deadPort, dataDir };
}

describe('the daemon without InfluxDB', () => {
  it('starts, serves and reports the influx check as failing', async () => {
    const { controller, port, deadPort, dataDir } = await withoutInfluxOrLeshan((dead) => ({
      url: `http://admin:hunter2@127.0.0.1:${dead}`,
      connectIntervalMs: 100,
    }));
    try {
      const res = await waitFor(
        () => fetch(`http://127.0.0.1:${port}/health`),
        (r) => r.status === 503,
      );
      const body = (await res.json()) as Health;
      assert.equal(res.status, 503);
      assert.ok(body.failing?.includes('influx'), JSON.stringify(body));
      assert.equal(body.checks.influx?.state, 'down');
      assert.equal(body.checks.influx?.url, `http://***@127.0.0.1:${deadPort}/`, 'the open /health shows no credentials');
      assert.ok(!JSON.stringify(body).includes('hunter2'));
      assert.equal(body.checks.store?.status, 'ok');
      assert.equal(body.checks.influx?.status, 'degraded');

      // readiness: the daemon still does its job (points go to the spool), so a probe must not take it out
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      const readyBody = (await ready.json()) as Health & { degraded?: string[] };
      assert.equal(ready.status, 200);
      assert.equal(readyBody.status, 'degraded');
      assert.ok(readyBody.degraded?.includes('influx'), JSON.stringify(readyBody));
      assert.equal(readyBody.failing, undefined);
      // Leshan does not answer either: degraded, with the reason
      const health = async (): Promise<Health> => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Health;
      const leshan = (await waitFor(health, (b) => b.checks.leshan?.state === 'down')).checks.leshan;
      assert.equal(leshan?.status, 'degraded');
      assert.match(leshan?.error ?? '', /ECONNREFUSED/);
      // liveness: the process answers
      const live = await fetch(`http://127.0.0.1:${port}/health/live`);
      assert.equal(live.status, 200);
      assert.equal(((await live.json()) as { status: string }).status, 'alive');
    } finally {
      assert.equal(await controller.stop(), 0);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('/health/ready with a check that fails outright', () => {
  it('is 503 naming the failing check, while /health/live stays 200', async () => {
    const { healthRoutes } = await import('../../src/http/healthRoutes.js');
    const { createApp } = await import('../../src/http/app.js');
    const { Registry } = await import('prom-client');
    const router = healthRoutes(
      { store: () => ({ ok: false, reason: 'ENOSPC' }), influx: () => ({ ok: false, degraded: true }), leshan: () => ({ ok: true }) },
      new Registry(),
    );
    const app = createApp({ log: testLogger(), bodyLimitBytes: 1024, routers: [router] });
    const { createServer } = await import('node:http');
    const server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const ready = await fetch(`${base}/health/ready`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as {
        status: string;
        failing: string[];
        degraded: string[];
        checks: Record<string, { status: string }>;
      };
      assert.equal(body.status, 'fail');
      assert.deepEqual(body.failing, ['store']);
      assert.deepEqual(body.degraded, ['influx']);
      assert.equal(body.checks.leshan?.status, 'ok');
      const strict = (await (await fetch(`${base}/health`)).json()) as { failing: string[] };
      assert.deepEqual(strict.failing, ['store', 'influx'], '/health names every check that is not ok');
      assert.equal((await fetch(`${base}/health/live`)).status, 200);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('/metrics of a running daemon', () => {
  it('counts API requests by method, route pattern and status, and says whether InfluxDB and Leshan answer', async () => {
    const { controller, port, dataDir } = await withoutInfluxOrLeshan((dead) => ({ url: `http://127.0.0.1:${dead}` }));
    try {
      const base = `http://127.0.0.1:${port}`;
      await (await fetch(`${base}/api/operations/42`)).text();
      await (await fetch(`${base}/api/operations/43`)).text();
      await (await fetch(`${base}/no/such/${Math.random()}`)).text();
      const text = await waitFor(
        async () => (await fetch(`${base}/metrics`)).text(),
        (t) => /^lwm2m_backend_leshan_up 0$/m.test(t),
      );
      assert.match(text, /^lwm2m_backend_http_requests_total\{method="GET",route="\/api\/operations\/:id",status="404"\} 2$/m);
      assert.match(text, /^lwm2m_backend_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
      assert.match(text, /^lwm2m_backend_http_request_seconds_count\{method="GET",route="\/api\/operations\/:id"\} 2$/m);
      assert.match(text, /^lwm2m_backend_influx_up 0$/m);
      assert.match(text, /^lwm2m_backend_leshan_up 0$/m);
    } finally {
      assert.equal(await controller.stop(), 0);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InfluxConnection } from '../../src/influx/connection.js';
import { createInfluxEndpoint } from '../../src/influx/endpoint.js';
import { startInflux2Double, type Influx2Double } from '../support/influx2Double.js';
import { testConfig, testLogger } from '../support/config.js';

describe('InfluxConnection with the 2.x API', () => {
  let server: Influx2Double;
  before(async () => {
    server = await startInflux2Double({ buckets: ['lwm2m'] });
  });
  after(async () => {
    await server.close();
  });

  async function probe(influx: Partial<ReturnType<typeof testConfig>['influx']>): Promise<ReturnType<InfluxConnection['snapshot']>> {
    const config = testConfig({ influx: { url: server.url, token: server.token, org: server.org, bucket: 'lwm2m', ...influx } });
    const endpoint = createInfluxEndpoint(config.influx, 'v2');
    const connection = new InfluxConnection(endpoint, testLogger());
    try {
      await connection.probe();
      return connection.snapshot();
    } finally {
      await connection.stop();
      await endpoint.close();
    }
  }

  it('is up when the bucket exists, asking with the token and org', async () => {
    server.requests.length = 0;
    const status = await probe({});
    assert.equal(status.state, 'up');
    const check = server.requests.find((r) => r.url.startsWith('/api/v2/buckets'));
    assert.ok(check, 'the bucket was checked');
    assert.equal(check.headers.authorization, `Token ${server.token}`);
    assert.equal(check.url, '/api/v2/buckets?name=lwm2m&org=test-org');
  });

  it('is down, saying why, when the bucket is missing or the token is rejected', async () => {
    const missing = await probe({ bucket: 'other' });
    assert.equal(missing.state, 'down');
    assert.equal(missing.error, 'bucket "other" not found in org "test-org"');
    const badToken = await probe({ token: 'wrong' });
    assert.equal(badToken.state, 'down');
    assert.match(badToken.error ?? '', /rejected the token \(401\)/);
  });
});

describe('InfluxConnection state changes', () => {
  it('follows the writer: reportFailure makes it down, reportSuccess up, listeners hear each change once', async () => {
    const config = testConfig({ influx: { url: 'http://127.0.0.1:9' } });
    const endpoint = createInfluxEndpoint(config.influx, 'v1');
    const connection = new InfluxConnection(endpoint, testLogger());
    const seen: string[] = [];
    connection.onChange((s) => seen.push(s));
    connection.reportSuccess();
    connection.reportSuccess();
    connection.reportFailure('boom');
    connection.reportFailure('boom again');
    assert.deepEqual(seen, ['up', 'down']);
    assert.equal(connection.snapshot().error, 'boom again');
    await endpoint.close();
  });

  it('warns when InfluxDB becomes unreachable and again when it is back (info only for the first connection)', async () => {
    const config = testConfig({ influx: { url: 'http://127.0.0.1:9' } });
    const endpoint = createInfluxEndpoint(config.influx, 'v1');
    const lines: [string, string][] = [];
    const at = (level: string) => (_obj: object, msg?: string) => void lines.push([level, msg ?? '']);
    const connection = new InfluxConnection(endpoint, { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') });
    connection.reportSuccess();
    connection.reportFailure('connect ECONNREFUSED');
    connection.reportFailure('connect ECONNREFUSED');
    connection.reportSuccess();
    assert.deepEqual(
      lines.map(([level, msg]) => [level, msg.replace(/:.*/, '')]),
      [
        ['info', 'InfluxDB connected'],
        ['warn', 'InfluxDB unreachable'],
        ['warn', 'InfluxDB reachable again'],
      ],
    );
    await endpoint.close();
  });
});

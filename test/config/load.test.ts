import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, resolveInfluxApi } from '../../src/config/load.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('returns the defaults of config/default.json with no file and no env', async () => {
    const config = loadConfig({ argv: [], env: {} });
    const defaults = JSON.parse(await readFile(DEFAULT_CONFIG_FILE, 'utf8'));
    assert.deepEqual(config, defaults);
    assert.equal(config.http.port, 8000);
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.leshan.url, 'http://127.0.0.1:8080');
    assert.equal(config.leshan.ingress, 'posts');
    assert.equal(config.endpoints.awakeMs, 93000);
    assert.equal(config.operations.maxAttempts, 3);
  });

  it('merges a --config file over the defaults key by key, replacing arrays whole', async () => {
    const f = await file('merge.json', { http: { port: 9001, leshanAllowFrom: ['10.0.0.0/8'] }, influx: { database: 'x' } });
    const config = loadConfig({ argv: ['--config', f], env: {} });
    assert.equal(config.http.port, 9001);
    assert.equal(config.http.host, '127.0.0.1', 'sibling keys keep their defaults');
    assert.deepEqual(config.http.leshanAllowFrom, ['10.0.0.0/8']);
    assert.equal(config.influx.database, 'x');
    assert.equal(config.influx.url, 'http://127.0.0.1:8086');
    const same = loadConfig({ argv: [`--config=${f}`], env: {} });
    assert.deepEqual(same, config);
  });

  it('lets LWM2M_* environment variables override single keys, typed like the default', async () => {
    const f = await file('env.json', { http: { port: 9001 } });
    const config = loadConfig({
      argv: ['--config', f],
      env: {
        LWM2M_HTTP_PORT: '9100',
        LWM2M_ENDPOINTS_AWAKEMS: '5000',
        LWM2M_AUTH_ALLOWANONYMOUS: 'true',
        LWM2M_HTTP_LESHANALLOWFROM: '127.0.0.1, 10.1.0.0/16',
        LWM2M_INFLUX_TOKEN: 'secret',
        LWM2M_DATADIR: '/var/lib/x',
        OTHER: 'ignored',
      },
    });
    assert.equal(config.http.port, 9100, 'env wins over the file');
    assert.equal(config.endpoints.awakeMs, 5000);
    assert.equal(config.auth.allowAnonymous, true);
    assert.deepEqual(config.http.leshanAllowFrom, ['127.0.0.1', '10.1.0.0/16']);
    assert.equal(config.influx.token, 'secret');
    assert.equal(config.dataDir, '/var/lib/x');
    const json = loadConfig({ argv: [], env: { LWM2M_HTTP_LESHANALLOWFROM: '["::1"]' } });
    assert.deepEqual(json.http.leshanAllowFrom, ['::1']);
  });

  it('reports every problem at once, each with its key path', async () => {
    const f = await file('bad.json', {
      http: { port: 70000, extra: 1 },
      leshan: { url: 'ftp://x', ingress: 'carrier-pigeon' },
      influx: { url: 'not a url', timeoutMs: -1 },
      endpoints: { awakeMs: 'soon' },
      bogus: true,
    });
    const problems = problemsOf(() => loadConfig({ argv: ['--config', f], env: { LWM2M_OPERATIONS_MAXATTEMPTS: 'three' } }));
    const expectKeys = [
      'http.port:',
      'http.extra: unknown key',
      'leshan.url:',
      'leshan.ingress:',
      'influx.url:',
      'influx.timeoutMs:',
      'endpoints.awakeMs:',
      'bogus: unknown key',
      'operations.maxAttempts:',
    ];
    for (const key of expectKeys) {
      assert.ok(
        problems.some((p) => p.startsWith(key)),
        `no problem for ${key} in ${JSON.stringify(problems)}`,
      );
    }
    assert.equal(problems.length, expectKeys.length, JSON.stringify(problems));
    assert.match(
      problems.find((p) => p.startsWith('operations.maxAttempts'))!,
      /from LWM2M_OPERATIONS_MAXATTEMPTS/,
    );
    assert.match(
      problems.find((p) => p.startsWith('leshan.url'))!,
      /http/,
    );
  });

  it('refuses an unreadable file, a file that is not JSON or not an object, and unknown arguments', async () => {
    assert.match(
      problemsOf(() => loadConfig({ argv: ['--config', path.join(dir, 'missing.json')], env: {} }))[0]!,
      /missing\.json: cannot be read \(ENOENT\)/,
    );
    const broken = await file('broken.json', '{"http": ');
    assert.match(problemsOf(() => loadConfig({ argv: ['--config', broken], env: {} }))[0]!, /broken\.json: invalid JSON/);
    const array = await file('array.json', '[1,2]');
    assert.match(problemsOf(() => loadConfig({ argv: ['--config', array], env: {} }))[0]!, /must hold a JSON object/);
    const problems = problemsOf(() => loadConfig({ argv: ['--port', '1', '--config'], env: {} }));
    assert.ok(problems.some((p) => p.includes('unknown argument "--port"')));
    assert.ok(problems.some((p) => p.includes('--config needs a file name')));
  });

  it('names environment variables that match no key', () => {
    const problems = problemsOf(() => loadConfig({ argv: [], env: { LWM2M_HTTP_PROT: '1' } }));
    assert.deepEqual(problems, ['LWM2M_HTTP_PROT: names no configuration key']);
  });

  it('refuses an operator API open beyond loopback without a token unless anonymous is explicit', () => {
    const problems = problemsOf(() => loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: '0.0.0.0' } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^auth\.token: .*0\.0\.0\.0/);
    assert.equal(loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: '0.0.0.0', LWM2M_AUTH_TOKEN: 't' } }).auth.token, 't');
    assert.equal(
      loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: '0.0.0.0', LWM2M_AUTH_ALLOWANONYMOUS: 'true' } }).auth.allowAnonymous,
      true,
    );
    assert.equal(loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: 'localhost' } }).http.host, 'localhost');
  });

  it('checks the InfluxDB target of the API generation in use', () => {
    assert.deepEqual(
      problemsOf(() => loadConfig({ argv: [], env: { LWM2M_INFLUX_DATABASE: '' } })),
      ['influx.database: required for the 1.x API'],
    );
    assert.deepEqual(
      problemsOf(() => loadConfig({ argv: [], env: { LWM2M_INFLUX_API: 'v2' } })),
      ['influx.bucket: required for the 2.x API'],
    );
    const v2 = loadConfig({ argv: [], env: { LWM2M_INFLUX_BUCKET: 'b', LWM2M_INFLUX_ORG: 'o' } });
    assert.equal(resolveInfluxApi(v2), 'v2', 'auto picks 2.x when a bucket is set');
    assert.equal(resolveInfluxApi(loadConfig({ argv: [], env: {} })), 'v1');
  });

  it('refuses a Leshan allow-list entry that is not an address or CIDR block', () => {
    const problems = problemsOf(() => loadConfig({ argv: [], env: { LWM2M_HTTP_LESHANALLOWFROM: '127.0.0.1,1.2.3/8,abc' } }));
    assert.ok(
      problems.some((p) => p.startsWith('http.leshanAllowFrom.2:')),
      JSON.stringify(problems),
    );
    assert.ok(
      problems.some((p) => p.includes('"1.2.3/8"')),
      JSON.stringify(problems),
    );
  });
});

describe('http.host', () => {
  it('refuses a bracketed IPv6 address (it cannot be bound) and names the fix; takes addresses and host names', () => {
    const problems = problemsOf(() => loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: '[::1]' } }));
    assert.equal(problems[0], 'http.host: write the IPv6 address without brackets ("::1")');
    assert.ok(problemsOf(() => loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: 'not a host!' } }))[0]?.startsWith('http.host:'));
    for (const host of ['::1', '127.0.0.1', 'localhost', 'gw-1.local']) {
      assert.equal(loadConfig({ argv: [], env: { LWM2M_HTTP_HOST: host, LWM2M_AUTH_TOKEN: 't' } }).http.host, host);
    }
  });
});

/**
 * systemd/lwm2m-leshan-server.service: this project's Leshan server beside the daemon, hardened as far as a JVM
 * allows. Checked offline with the build machine's systemd-analyze (verify and security).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exposureLevel, parseUnit, skip, verifyComplaints } from '../support/systemdAnalyze.js';

const UNIT_PATH = fileURLToPath(new URL('../../systemd/lwm2m-leshan-server.service', import.meta.url));
const MAX_EXPOSURE = 2.0;
const service = parseUnit(readFileSync(UNIT_PATH, 'utf8')).get('Service') ?? new Map<string, string[]>();
const last = (key: string): string | undefined => service.get(key)?.at(-1);

describe('systemd/lwm2m-leshan-server.service', () => {
  it('passes systemd-analyze verify', { skip }, async () => {
    const lines = await verifyComplaints(UNIT_PATH, 'lwm2m-leshan-server');
    assert.deepEqual(lines, [], `verify complained about the unit:\n${lines.join('\n')}`);
  });

  it(`has an overall exposure level <= ${MAX_EXPOSURE}, printed`, { skip }, async (t) => {
    const exposure = await exposureLevel(UNIT_PATH);
    t.diagnostic(`overall exposure level: ${exposure}`);
    assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} > ${MAX_EXPOSURE}`);
  });

  it('runs the built jar, REST API on loopback, CoAP to devices, posting to the daemon on loopback', () => {
    const exec = service.get('ExecStart')?.join(' ') ?? '';
    assert.match(exec, /^\/usr\/bin\/java .*-jar \/opt\/leshan\/lwm2m-leshan-server\.jar$/);
    const env = new Map((service.get('Environment') ?? []).map((e) => e.split('=', 2) as [string, string]));
    assert.equal(env.get('LESHAN_HTTP_ADDRESS'), '127.0.0.1', 'the REST API (the daemon) on loopback');
    assert.equal(env.get('LESHAN_DAEMON_URL'), 'http://127.0.0.1:8000');
    assert.equal(env.get('LESHAN_COAP_PORT'), '5683');
    assert.equal(env.get('LESHAN_DELAYED_REQUESTS'), 'false', 'the daemon keeps operations for sleeping clients, not Leshan');
    assert.equal(last('DynamicUser'), 'yes');
    assert.equal(last('CapabilityBoundingSet'), '');
    assert.equal(last('ProtectSystem'), 'strict', 'it writes no file');
    assert.ok(!(service.get('MemoryDenyWriteExecute') ?? []).some((v) => /^(yes|true|on|1)$/i.test(v)), 'the JIT needs W+X memory');
  });
});

/**
 * systemd/leshan-demo-server.service: the stock Leshan demo server beside the daemon, hardened as far as a
 * JVM allows. Checked offline with the build machine's systemd-analyze (verify and security).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exposureLevel, parseUnit, skip, verifyComplaints } from '../support/systemdAnalyze.js';

const UNIT_PATH = fileURLToPath(new URL('../../systemd/leshan-demo-server.service', import.meta.url));
const MAX_EXPOSURE = 2.0;
const service = parseUnit(readFileSync(UNIT_PATH, 'utf8')).get('Service') ?? new Map<string, string[]>();
const last = (key: string): string | undefined => service.get(key)?.at(-1);

describe('systemd/leshan-demo-server.service', () => {
  it('passes systemd-analyze verify', { skip }, async () => {
    const lines = await verifyComplaints(UNIT_PATH, 'leshan-demo-server');
    assert.deepEqual(lines, [], `verify complained about the unit:\n${lines.join('\n')}`);
  });

  it(`has an overall exposure level <= ${MAX_EXPOSURE}, printed`, { skip }, async (t) => {
    const exposure = await exposureLevel(UNIT_PATH);
    t.diagnostic(`overall exposure level: ${exposure}`);
    assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} > ${MAX_EXPOSURE}`);
  });

  it('serves its REST API and events on loopback only, CoAP to devices, with the JVM options Java 17 needs', () => {
    const exec = service.get('ExecStart')?.join(' ') ?? '';
    assert.match(exec, /^\/usr\/bin\/java /);
    assert.match(exec, /-wh 127\.0\.0\.1 -wp 8080/, 'the REST API (the daemon) on loopback');
    assert.match(exec, /-lp 5683/);
    assert.match(exec, /--add-opens java\.base\/java\.util=ALL-UNNAMED/);
    assert.equal(last('DynamicUser'), 'yes');
    assert.equal(last('CapabilityBoundingSet'), '');
    assert.equal(last('WorkingDirectory'), `%S/${last('StateDirectory')}`, 'it writes into its working directory: the state directory');
    assert.ok(!(service.get('MemoryDenyWriteExecute') ?? []).some((v) => /^(yes|true|on|1)$/i.test(v)), 'the JIT needs W+X memory');
  });
});

/**
 * Checks systemd/lwm2m-backend.service with the systemd-analyze of the build machine (systemd 252
 * here, in a container without a running manager: both commands below work offline), plus the
 * structural facts the daemon relies on. Skipped where systemd-analyze is not installed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exposureLevel, outputLines, parseUnit, skip, verify } from '../support/systemdAnalyze.js';

const UNIT_PATH = fileURLToPath(new URL('../../systemd/lwm2m-backend.service', import.meta.url));
const UNIT_NAME = basename(UNIT_PATH);
const MAX_EXPOSURE = 2.0;

/**
 * Messages that are about the build machine, not about the unit, listed one by one. systemd 252's
 * verify checks that ExecStart='s binary exists and is executable; it does not check
 * WorkingDirectory= or ConfigurationDirectory=, so a missing /usr/lib/lwm2m-backend or
 * /etc/lwm2m-backend prints nothing. The one tolerated message applies only if /usr/bin/node is
 * really absent here (e.g. node from nvm or /usr/local/bin).
 */
const TOLERATED: { pattern: RegExp; applies: () => boolean; why: string }[] = [
  {
    pattern: /^lwm2m-backend\.service: Command \/usr\/bin\/node is not executable: No such file or directory$/,
    applies: () => !existsSync('/usr/bin/node'),
    why: 'node is not installed at /usr/bin/node on this build machine',
  },
];

const unitText = readFileSync(UNIT_PATH, 'utf8');
const unit = parseUnit(unitText);
const service = unit.get('Service') ?? new Map<string, string[]>();
/** Every key the unit sets, to recognise verify messages about its directives. */
const ownKeys = [...unit.values()].flatMap((section) => [...section.keys()]);

/** The effective (last) value of a [Service] key. */
function last(key: string): string | undefined {
  return service.get(key)?.at(-1);
}

describe('systemd/lwm2m-backend.service', () => {
  it('passes systemd-analyze verify (only host-specific path messages tolerated)', { skip }, async (t) => {
    const result = await verify(UNIT_PATH);
    const lines = outputLines(result);
    const tolerated = lines.filter((line) => TOLERATED.some((k) => k.applies() && k.pattern.test(line)));
    for (const line of tolerated) t.diagnostic(`tolerated: ${line}`);
    const aboutUnit = lines.filter(
      (line) =>
        !tolerated.includes(line) &&
        (line.includes(UNIT_NAME) || ownKeys.some((key) => new RegExp(`\\b${key}=`).test(line) || line.includes(`'${key}'`))),
    );
    const other = lines.filter((line) => !tolerated.includes(line) && !aboutUnit.includes(line));
    for (const line of other) t.diagnostic(`verify (host units, ignored): ${line}`);
    assert.deepEqual(aboutUnit, [], `verify complained about the unit:\n${lines.join('\n')}`);
    if (tolerated.length === 0) {
      assert.equal(result.code, 0, `verify exited ${result.code}:\n${lines.join('\n')}`);
    }
  });

  it('systemd-analyze verify does catch a misspelled directive (the check above is live)', { skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwm2m-unit-'));
    try {
      const broken = join(dir, UNIT_NAME);
      writeFileSync(broken, unitText.replace(/^LockPersonality=yes$/m, 'LockPersonalty=yes'));
      const lines = outputLines(await verify(broken));
      assert.ok(
        lines.some((line) => line.includes(UNIT_NAME) && line.includes("Unknown key 'LockPersonalty'")),
        `expected an "Unknown key" warning, got:\n${lines.join('\n')}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`has an overall exposure level <= ${MAX_EXPOSURE} (systemd-analyze security --offline=yes)`, { skip }, async (t) => {
    const exposure = await exposureLevel(UNIT_PATH);
    t.diagnostic(`overall exposure level: ${exposure}`);
    assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} > ${MAX_EXPOSURE}`);
  });

  it('is Type=notify with NotifyAccess=main and a watchdog', () => {
    assert.equal(last('Type'), 'notify');
    assert.equal(last('NotifyAccess'), 'main');
    const watchdog = last('WatchdogSec');
    assert.ok(watchdog !== undefined && /^[1-9]\d*\s*(s|sec|min|ms)?$/.test(watchdog), `WatchdogSec=${watchdog}`);
    assert.equal(last('Restart'), 'always');
  });

  it('starts plain /usr/bin/node on compiled JavaScript', () => {
    const execStart = service.get('ExecStart');
    assert.equal(execStart?.length, 1, 'exactly one ExecStart=');
    // Strip systemd's command prefixes (-, @, :, +, !) before splitting.
    const argv = (execStart?.[0] ?? '').replace(/^[-@:+!]+/, '').split(/\s+/);
    assert.equal(argv[0], '/usr/bin/node');
    const script = argv.slice(1).find((arg) => !arg.startsWith('-'));
    assert.ok(script?.endsWith('.js'), `script argument ${script} is not a .js file`);
    assert.ok(!/\b(npm|npx|tsx|ts-node)\b/.test(execStart?.[0] ?? ''), 'no npm/tsx at runtime');
  });

  it('runs as a DynamicUser whose data goes to its StateDirectory', () => {
    assert.equal(last('DynamicUser'), 'yes');
    const stateDir = last('StateDirectory');
    assert.ok(stateDir, 'StateDirectory= set');
    const env = (service.get('Environment') ?? []).flatMap((value) => value.split(/\s+/));
    assert.ok(env.includes(`LWM2M_DATADIR=%S/${stateDir}`), `LWM2M_DATADIR points into %S/${stateDir}`);
    assert.ok(env.includes('NODE_ENV=production'));
    assert.equal(last('CapabilityBoundingSet'), '', 'empty capability bounding set');
  });

  it('does not set MemoryDenyWriteExecute=yes (V8 JIT needs W+X memory)', () => {
    const mdwe = service.get('MemoryDenyWriteExecute') ?? [];
    assert.ok(!mdwe.some((value) => /^(yes|true|on|1)$/i.test(value)), `MemoryDenyWriteExecute=${mdwe.join(',')}`);
  });
});

/**
 * `npm run package` (scripts/package.sh) of the commit HEAD into a temp dir: the Debian package's control
 * data and contents (dpkg-deb), lintian (Debian's package checker; installed from apt when missing and this
 * runs as root), the unit's paths against the package's files, an install, reinstall and purge with dpkg
 * into a throwaway root (maintainer scripts included), and the packaged daemon itself: installed there,
 * started the way the unit starts it (its ExecStart, rebased into that root) with the packaged example
 * config on a free port, a real influxd and the Leshan test double, and NOTIFY_SOCKET on a datagram socket
 * of this test. READY=1 proves that the packaged native addon (unix-dgram) loads in this Node;
 * /health must answer 200.
 *
 * Skipped where dpkg-deb is missing (not a Debian-like build machine).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadProviders, providerPath } from '../support/grafanaProvisioning.js';
import { parseUnit } from '../support/systemdAnalyze.js';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { freePort } from '../../tools/ports.js';
import { until } from '../support/controllerHarness.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A file as committed: the package is built from HEAD (PACKAGE_REF), so that other uncommitted work in the tree stays out. */
const committed = (file: string): string => execFileSync('git', ['show', `HEAD:${file}`], { cwd: ROOT, encoding: 'utf8' });
const pkg = JSON.parse(committed('package.json')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** dpkg on the throwaway root (stdin closed: a question would fail instead of waiting). */
const dpkgIn =
  (root: string) =>
  (...args: string[]) =>
    exec('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', ...args], { maxBuffer: 16 << 20 });
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = has('dpkg-deb') ? false : 'dpkg-deb is not installed on this machine';

/** lintian, installed from apt when missing and this runs as root (it is a build-machine tool). */
function ensureLintian(): boolean {
  if (has('lintian')) return true;
  if (process.getuid?.() !== 0) return false;
  spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'lintian'], { stdio: 'ignore', timeout: 300_000 });
  return has('lintian');
}

describe('npm run package: the Debian package', { skip }, () => {
  let work = '';
  let deb = '';
  let root = '';
  let control = new Map<string, string>();
  let contents: { mode: string; owner: string; path: string }[] = [];
  let influxd: Influxd | undefined;
  let leshan: LeshanDouble | undefined;
  let lintian: Promise<{ stdout: string; stderr: string }> | undefined;
  const files = () => new Set(contents.map((c) => c.path));
  const dpkg = (...args: string[]) => dpkgIn(root)(...args);
  const inRoot = (p: string) => path.join(root, p);

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'lwm2m-package-'));
    const out = await exec('bash', [path.join(ROOT, 'scripts/package.sh'), work], {
      cwd: ROOT,
      env: { ...process.env, PACKAGE_REF: 'HEAD' },
      maxBuffer: 16 << 20,
    });
    deb = out.stdout.trim().split('\n').at(-1)!;
    const fields = (await exec('dpkg-deb', ['--field', deb])).stdout;
    control = new Map([...fields.matchAll(/^([\w-]+): (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const listing = (await exec('dpkg-deb', ['--contents', deb], { maxBuffer: 16 << 20 })).stdout;
    contents = listing
      .trim()
      .split('\n')
      .map((line) => {
        const [mode, owner, , , , ...rest] = line.split(/\s+/);
        return { mode: mode!, owner: owner!, path: rest.join(' ').replace(/^\.\//, '/').split(' -> ')[0]! };
      });
    // lintian is the slow part (tens of seconds): it runs while the other checks and the daemon run
    if (ensureLintian())
      lintian = exec('lintian', ['--fail-on', 'error,warning', deb], { maxBuffer: 16 << 20 }).catch(
        (err: { stdout: string; stderr: string }) => err,
      );
    await exec('dpkg-deb', ['-e', deb, path.join(work, 'DEBIAN')]);
    // A throwaway root with an empty dpkg database: dpkg installs the files there, and runs the maintainer
    // scripts outside a chroot with DPKG_ROOT set (deb-systemd-helper then works inside the root only).
    // nodejs and libc6 are not in that database, hence --force-depends.
    root = path.join(work, 'root');
    mkdirSync(path.join(root, 'var/lib/dpkg/info'), { recursive: true });
    mkdirSync(path.join(root, 'var/lib/dpkg/updates'));
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    await dpkg('-i', deb);
  });
  after(async () => {
    await influxd?.destroy();
    await leshan?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is lwm2m-backend_<version>_<arch>.deb for this machine, depending on the Node major its addon was built for', async () => {
    const arch = (await exec('dpkg', ['--print-architecture'])).stdout.trim();
    assert.equal(path.basename(deb), `lwm2m-backend_${pkg.version}_${arch}.deb`);
    assert.equal(control.get('Package'), 'lwm2m-backend');
    assert.equal(control.get('Version'), pkg.version);
    assert.equal(control.get('Architecture'), arch, 'arch-specific: the native addon is compiled');
    const major = Number(process.versions.node.split('.')[0]);
    const depends = control.get('Depends')!.split(/,\s*/);
    assert.ok(major >= 20);
    assert.deepEqual(depends.slice(0, 2), [`nodejs (>= ${major})`, `nodejs (<< ${major + 1})`]);
    assert.match(depends[2]!, /^libc6 \(>= [\d.]+\)$/);
    assert.ok(Number(control.get('Installed-Size')) > 1000, 'Installed-Size in KiB');
  });

  it('holds the compiled daemon with its production dependencies only, the unit, the conffile and the Grafana files, all root-owned', () => {
    const f = files();
    for (const p of [
      '/usr/lib/lwm2m-backend/dist/main.js',
      '/usr/lib/lwm2m-backend/config/default.json',
      '/usr/lib/lwm2m-backend/package.json',
      '/usr/lib/lwm2m-backend/node_modules/unix-dgram/build/Release/unix_dgram.node',
      '/etc/lwm2m-backend/config.json',
      '/lib/systemd/system/lwm2m-backend.service',
      '/usr/share/doc/lwm2m-backend/copyright',
      '/usr/share/doc/lwm2m-backend/changelog.gz',
      '/usr/share/doc/lwm2m-backend/README.systemd.md',
      '/usr/share/lwm2m-backend/grafana/dashboards/lwm2m-backend.json',
      '/usr/share/lwm2m-backend/grafana/dashboards/lwm2m-backend-daemon.json',
      '/usr/share/lwm2m-backend/grafana/provisioning/datasources/lwm2m-backend.yaml',
      '/usr/share/lwm2m-backend/grafana/provisioning/dashboards/lwm2m-backend.yaml',
    ])
      assert.ok(f.has(p), `${p} is in the package`);
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(f.has(`/usr/lib/lwm2m-backend/node_modules/${dep}/package.json`), `dependency ${dep}`);
    for (const dev of Object.keys(pkg.devDependencies))
      assert.ok(!f.has(`/usr/lib/lwm2m-backend/node_modules/${dev}/package.json`), `devDependency ${dev} is left out`);
    const lib = contents.filter((c) => c.path.startsWith('/usr/lib/lwm2m-backend/'));
    assert.ok(!lib.some((c) => /\.ts$/.test(c.path) && !c.path.endsWith('.d.ts') && !c.path.includes('/node_modules/')), 'no TypeScript');
    assert.ok(!lib.some((c) => c.path.endsWith('.map') && !c.path.includes('/node_modules/')), 'no source maps of our own');
    assert.ok(!lib.some((c) => c.path.includes('/unix-dgram/build/Release/obj')), 'no build tree of the addon');
    assert.ok(
      contents.every((c) => c.owner === 'root/root'),
      'root:root throughout (--root-owner-group)',
    );
    assert.equal(readFileSync(path.join(work, 'DEBIAN/conffiles'), 'utf8').trim(), '/etc/lwm2m-backend/config.json');
    assert.equal(readFileSync(path.join(root, 'etc/lwm2m-backend/config.json'), 'utf8'), committed('packaging/config.json'));
  });

  it('has maintainer scripts that parse and enable the unit the dh_installsystemd way, creating no user (DynamicUser=yes)', async () => {
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const file = path.join(work, 'DEBIAN', script);
      assert.equal(statSync(file).mode & 0o777, 0o755, `${script} is executable`);
      await exec('sh', ['-n', file]);
    }
    const postinst = readFileSync(path.join(work, 'DEBIAN/postinst'), 'utf8');
    assert.match(postinst, /deb-systemd-helper enable 'lwm2m-backend\.service'/);
    assert.doesNotMatch(postinst, /\badduser\b|\buseradd\b/);
    const unit = parseUnit(readFileSync(path.join(root, 'lib/systemd/system/lwm2m-backend.service'), 'utf8'));
    assert.deepEqual(unit.get('Service')?.get('DynamicUser'), ['yes']);
  });

  it('installs with dpkg: status installed, the conffile registered, the unit enabled by postinst inside that root, Grafana files where the provider reads', async () => {
    const status = (await exec('dpkg-query', [`--root=${root}`, '-W', '-f=${Status}|${Conffiles}', 'lwm2m-backend'])).stdout;
    const [state, conffiles] = status.split('|');
    assert.equal(state, 'install ok installed');
    assert.match(conffiles!, /^ \/etc\/lwm2m-backend\/config\.json [0-9a-f]{32}$/);
    assert.ok(existsSync(inRoot('usr/lib/lwm2m-backend/dist/main.js')));
    assert.equal(
      readlinkSync(inRoot('etc/systemd/system/multi-user.target.wants/lwm2m-backend.service')),
      '/lib/systemd/system/lwm2m-backend.service',
      'enabled (WantedBy=multi-user.target) by deb-systemd-helper',
    );
    // the packaged Grafana dashboard provider reads the dashboards from where the package put them
    const provisioning = inRoot('usr/share/lwm2m-backend/grafana/provisioning/dashboards');
    const providers = loadProviders(
      readdirSync(provisioning).map((name) => ({ name, text: readFileSync(path.join(provisioning, name), 'utf8') })),
    );
    assert.deepEqual(readdirSync(inRoot(providerPath(providers[0]!))).sort(), ['lwm2m-backend-daemon.json', 'lwm2m-backend.json']);
  });

  it("has a unit whose paths are the package's files", () => {
    const unitText = readFileSync(path.join(root, 'lib/systemd/system/lwm2m-backend.service'), 'utf8');
    assert.equal(unitText, committed('systemd/lwm2m-backend.service'), 'the unit of the repository');
    const unit = parseUnit(unitText);
    const service = unit.get('Service')!;
    const argv = service.get('ExecStart')![0]!.split(/\s+/);
    assert.equal(argv[0], '/usr/bin/node');
    const f = files();
    assert.ok(f.has(argv[1]!), `ExecStart runs ${argv[1]}, a file of the package`);
    assert.equal(argv[argv.indexOf('--config') + 1], '/etc/lwm2m-backend/config.json', '--config is the conffile');
    assert.ok(f.has(`${service.get('WorkingDirectory')![0]}/`), 'WorkingDirectory is a directory of the package');
    const doc = unit.get('Unit')!.get('Documentation')![0]!;
    assert.ok(f.has(doc.replace(/^file:\/\//, '')), `Documentation=${doc} is in the package`);
  });

  it('runs: the packaged daemon, started as the unit starts it, sends READY=1 through its addon and answers /health', async () => {
    influxd = await startInfluxd();
    leshan = await startLeshanDouble();
    const require = createRequire(import.meta.url);
    const unix = require('unix-dgram') as {
      createSocket(type: string, listener: (buf: Buffer) => void): { bind(p: string): void; close(): void };
    };
    const notify = path.join(work, 'notify.sock');
    const messages: string[] = [];
    const socket = unix.createSocket('unix_dgram', (buf) => messages.push(buf.toString()));
    socket.bind(notify);
    const unit = parseUnit(readFileSync(path.join(root, 'lib/systemd/system/lwm2m-backend.service'), 'utf8')).get('Service')!;
    const [node, ...args] = unit
      .get('ExecStart')![0]!
      .split(/\s+/)
      .map((a, i) => (i > 0 && a.startsWith('/') ? path.join(root, a) : a));
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('LWM2M_') && !k.startsWith('WATCHDOG_') && k !== 'NODE_OPTIONS') env[k] = v;
    let proc: ChildProcess | undefined;
    let output = '';
    try {
      proc = spawn(existsSync(node!) ? node! : process.execPath, args, {
        cwd: path.join(root, unit.get('WorkingDirectory')![0]!),
        env: {
          ...env,
          NODE_ENV: 'production',
          NOTIFY_SOCKET: notify,
          LWM2M_HTTP_PORT: String(port),
          LWM2M_INFLUX_URL: influxd.url,
          LWM2M_LESHAN_URL: leshan.url,
          LWM2M_DATADIR: path.join(work, 'data'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout!.on('data', (b: Buffer) => (output += b.toString()));
      proc.stderr!.on('data', (b: Buffer) => (output += b.toString()));
      await until(() => messages.includes('READY=1') || proc!.exitCode !== null, 30_000, 'READY=1').catch((err: Error) => {
        throw new Error(`${err.message}\n${output}`);
      });
      assert.ok(messages.includes('READY=1'), `READY=1 over NOTIFY_SOCKET:\n${output}`);
      let health: { status: string; checks: Record<string, { status: string }> } | undefined;
      await until(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        health = (await res.json()) as typeof health;
        return res.status === 200;
      }, 15_000).catch((err: Error) => {
        throw new Error(`${err.message}: /health ${JSON.stringify(health)}`);
      });
      assert.equal(health!.status, 'ok');
      assert.equal(health!.checks.influx?.status, 'ok', 'the packaged daemon reached the real influxd');
      const exited = new Promise<number | null>((resolve) => proc!.once('exit', (code) => resolve(code)));
      proc.kill('SIGTERM');
      assert.equal(await exited, 0, 'clean exit on SIGTERM');
      assert.equal(messages.at(-1), 'STOPPING=1');
    } finally {
      if (proc && proc.exitCode === null) proc.kill('SIGKILL');
      socket.close();
    }
  });

  it('passes lintian without errors or warnings', async (t) => {
    if (!lintian) return t.skip('lintian is not installed');
    const result = await lintian;
    const tags = `${result.stdout}`.split('\n').filter((l) => /^[EWIPX]: /.test(l));
    for (const tag of tags) t.diagnostic(tag);
    assert.deepEqual(
      tags.filter((l) => /^[EW]: /.test(l)),
      [],
      `lintian:\n${result.stdout}\n${result.stderr}`,
    );
  });

  it('keeps an edited conffile on reinstall; purge removes the files, the enablement and the data directory', async () => {
    const conf = inRoot('etc/lwm2m-backend/config.json');
    const edited = JSON.stringify({ http: { port: 8001 } });
    writeFileSync(conf, edited);
    await dpkg('-i', deb);
    assert.equal(readFileSync(conf, 'utf8'), edited, 'the edited config.json is kept');
    // what systemd's StateDirectory= with DynamicUser=yes leaves after the daemon ran
    mkdirSync(inRoot('var/lib/private/lwm2m-backend'), { recursive: true });
    writeFileSync(inRoot('var/lib/private/lwm2m-backend/operations.json'), '{}');
    symlinkSync('private/lwm2m-backend', inRoot('var/lib/lwm2m-backend'));
    await dpkg('--purge', 'lwm2m-backend');
    for (const p of [
      'usr/lib/lwm2m-backend',
      'etc/lwm2m-backend/config.json',
      'lib/systemd/system/lwm2m-backend.service',
      'etc/systemd/system/multi-user.target.wants/lwm2m-backend.service',
      'var/lib/private/lwm2m-backend',
      'var/lib/lwm2m-backend',
    ])
      assert.throws(() => lstatSync(inRoot(p)), /ENOENT/, `${p} is gone`);
    const after = await exec('dpkg-query', [`--root=${root}`, '-W', '-f=${Status}', 'lwm2m-backend']).catch((e: { stdout: string }) => e);
    assert.doesNotMatch(after.stdout, /installed/);
  });
});

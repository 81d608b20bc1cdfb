/**
 * config/grafana/provisioning loaded the way Grafana's file provisioning loads it (test/support/grafanaProvisioning.ts
 * has the rules, from Grafana's source), then what the provisioned data sources and provider mean for the two
 * dashboards: each dashboard's data source variable lands on a provisioned data source of its type, the
 * InfluxDB one points where the daemon writes by default, and the provider reads the dashboards from where
 * the Debian package installs them. The daemon-health dashboard's PromQL names only metrics and labels the
 * daemon's /metrics really exposes, and runs on a real Prometheus scraping the daemon.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  loadDashboards,
  loadDatasources,
  loadProviders,
  providerPath,
  type DashboardModel,
  type ProvisioningFile,
} from '../support/grafanaProvisioning.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { prometheusBinary, startPrometheus, type Prometheus } from '../support/prometheus.js';

const GRAFANA = fileURLToPath(new URL('../../config/grafana/', import.meta.url));
/** Where scripts/package.sh installs config/grafana/*.json. */
const PACKAGED_DASHBOARDS = '/usr/share/lwm2m-backend/grafana/dashboards';

const filesIn = (dir: string): ProvisioningFile[] =>
  readdirSync(dir)
    .filter((name) => statSync(`${dir}/${name}`).isFile())
    .sort()
    .map((name) => ({ name, text: readFileSync(`${dir}/${name}`, 'utf8') }));
const datasourceFiles = filesIn(`${GRAFANA}provisioning/datasources`);
const providerFiles = filesIn(`${GRAFANA}provisioning/dashboards`);
const dashboardFiles = filesIn(GRAFANA);
const defaults = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8')) as {
  influx: { url: string; database: string };
};

const yamlFile = (text: string): ProvisioningFile[] => [{ name: 'x.yaml', text }];
const dsVariable = (d: DashboardModel) => d.templating?.list?.find((v) => v.type === 'datasource');

describe('Grafana provisioning files', () => {
  it('the data sources load: InfluxDB (InfluxQL) where the daemon writes by default, and Prometheus for its /metrics', () => {
    const sources = loadDatasources(datasourceFiles);
    assert.deepEqual(
      sources.map((s) => [s.name, s.type, s.uid, s.access]),
      [
        ['lwm2m-backend InfluxDB', 'influxdb', 'lwm2m-backend-influxdb', 'proxy'],
        ['lwm2m-backend Prometheus', 'prometheus', 'lwm2m-backend-prometheus', 'proxy'],
      ],
    );
    const influx = sources[0]!;
    assert.equal(influx.url, defaults.influx.url, 'influx.url default');
    assert.equal(influx.jsonData?.dbName, defaults.influx.database, 'the InfluxQL database is influx.database');
    assert.equal(influx.jsonData?.version, undefined, 'query language InfluxQL (the default; Flux or SQL would not run the dashboard)');
    assert.ok(!sources.some((s) => s.isDefault), 'no isDefault: a Grafana that has a default data source keeps it');
    for (const s of sources) assert.doesNotThrow(() => new URL(s.url!), `${s.name}: url`);
  });

  it('the dashboard provider loads, and reads the dashboards from where the Debian package installs them', () => {
    const providers = loadProviders(providerFiles);
    assert.equal(providers.length, 1);
    const p = providers[0]!;
    assert.equal(providerPath(p), PACKAGED_DASHBOARDS);
    assert.deepEqual([p.type, p.folder, p.folderUid, p.allowUiUpdates], ['file', 'LwM2M', 'lwm2m-backend', false]);
    const script = readFileSync(new URL('../../scripts/package.sh', import.meta.url), 'utf8');
    assert.match(script, /config\/grafana\/\*\.json "\$SHARE\/grafana\/dashboards\/"/, 'package.sh installs the dashboards');
    assert.match(script, /SHARE="\$STAGE\/usr\/share\/\$NAME"/, 'SHARE is /usr/share/lwm2m-backend');
  });

  it('the dashboards load as that provider loads them, and each data source variable finds its provisioned data source', () => {
    const dashboards = loadDashboards(dashboardFiles);
    assert.deepEqual([...dashboards.keys()], ['lwm2m-backend-daemon.json', 'lwm2m-backend.json']);
    const sources = new Map(loadDatasources(datasourceFiles).map((s) => [s.uid, s]));
    for (const [file, d] of dashboards) {
      const v = dsVariable(d);
      assert.ok(v, `${file} has a data source variable`);
      const target = sources.get(v.current?.value as string);
      assert.ok(target, `${file}: ${JSON.stringify(v.current?.value)} is a provisioned data source`);
      assert.equal(target.type, v.query, `${file}: the variable lists data sources of type ${target.type}`);
    }
  });

  it('the previous dashboard, with its ${DS_INFLUXDB} import input, would not load by file provisioning', () => {
    const current = JSON.parse(readFileSync(`${GRAFANA}lwm2m-backend.json`, 'utf8')) as Record<string, unknown>;
    const old = JSON.stringify({ ...current, __inputs: undefined }).replaceAll('${datasource}', '${DS_INFLUXDB}');
    assert.throws(() => loadDashboards([{ name: 'old.json', text: old }]), /\$\{DS_INFLUXDB\} is an import placeholder/);
    const withInputs = JSON.stringify({ ...current, __inputs: [{ name: 'DS_INFLUXDB', type: 'datasource', pluginId: 'influxdb' }] });
    assert.throws(() => loadDashboards([{ name: 'old.json', text: withInputs }]), /__inputs/);
  });

  it('the checks are live: what Grafana refuses, and what it would silently drop, is refused', () => {
    const ds = (extra: string) => yamlFile(`apiVersion: 1\ndatasources:\n  - name: a\n    type: influxdb\n${extra}`);
    assert.equal(loadDatasources(ds('    url: $INFLUX\n'), { INFLUX: 'http://h:8086' })[0]!.url, 'http://h:8086', '$VAR expanded');
    assert.equal(loadDatasources(ds('    isDefault: "true"\n'))[0]!.isDefault, true, 'a quoted boolean is parsed (strconv.ParseBool)');
    assert.equal(loadDatasources(ds('    url: http://$$x\n'))[0]!.url, 'http://$x', '$$ is a literal $');
    for (const [extra, problem] of [
      ['    isdefault: true\n', /isdefault/],
      ['    jsondata: {}\n', /jsondata/],
      ['    password: secret\n', /password/],
      ['    access: server\n', /access/],
      ['    isDefault: yes\n', /ParseBool/],
      ['    orgId: one\n', /Atoi/],
      ['    uid: has space\n', /uid/],
    ] as const)
      assert.throws(() => loadDatasources(ds(extra)), problem, extra);
    assert.throws(() => loadDatasources(yamlFile('datasources:\n  - name: a\n    type: influxdb\n')), /apiVersion/);
    assert.throws(
      () =>
        loadDatasources([
          ...ds('    isDefault: true\n'),
          { name: 'y.yml', text: 'apiVersion: 1\ndatasources: [{name: b, type: x, isDefault: true}]' },
        ]),
      /Only one datasource per organization/,
    );
    assert.equal(loadDatasources([{ name: 'notes.txt', text: 'not: [yaml' }]).length, 0, 'only *.yaml and *.yml are read');

    const provider = (extra: string) => yamlFile(`apiVersion: 1\nproviders:\n  - name: p\n${extra}`);
    assert.throws(() => loadProviders(provider('    options: {}\n')), /options\.path/);
    assert.throws(() => loadProviders(provider('    options: {path: 3}\n')), /options\.path/);
    assert.throws(() => loadProviders(provider('    type: api\n    options: {path: /x}\n')), /only file providers/);
    assert.throws(
      () => loadProviders(provider('    folder: f\n    folderUid: u\n    options: {path: /x, foldersFromFilesStructure: true}\n')),
      /foldersFromFilesStructure/,
    );
    assert.throws(() => loadProviders([...provider('    options: {path: /x}\n'), ...provider('    options: {path: /y}\n')]), /not unique/);
    assert.throws(() => loadDashboards([{ name: 'a.json', text: '{"title": ""}' }]), /title/);
    assert.throws(
      () =>
        loadDashboards([
          { name: 'a.json', text: '{"title": "a", "uid": "u"}' },
          { name: 'b.json', text: '{"title": "b", "uid": "u"}' },
        ]),
      /more than once/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------

describe('Grafana daemon-health dashboard against the daemon /metrics', () => {
  let d: RunningController;
  /** metric family -> label names seen in its samples */
  const families = new Map<string, Set<string>>();
  const daemon = JSON.parse(readFileSync(`${GRAFANA}lwm2m-backend-daemon.json`, 'utf8')) as {
    panels: { type: string; title: string; datasource?: unknown; targets?: { expr: string }[]; panels?: unknown[] }[];
    templating: { list: { type: string; name: string; definition: string }[] };
  };
  const exprs = daemon.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));

  before(async () => {
    // ingress "both": the event-stream metrics exist too (the stream itself fails: nothing listens there)
    d = await startController({ leshan: { url: 'http://127.0.0.1:9', ingress: 'both' }, influx: { url: 'http://127.0.0.1:9' } });
    // a refused and an accepted post, so that the ingest counters have their labels
    await d.post('/leshan_api/resource/single', { ep: 'dev1' });
    await d.post('/leshan_api/resource/single', {
      ep: 'dev1',
      obj_id: 3303,
      val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: '21.5' },
    });
    let text = '';
    await until(async () => {
      text = await (await fetch(`${d.url}/metrics`)).text();
      return /lwm2m_backend_ingest_posts_total\{/.test(text);
    });
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\w+) (\w+)/.exec(line);
      if (type) families.set(type[1]!, families.get(type[1]!) ?? new Set());
      const sample = /^(\w+)\{(.*)\} /.exec(line);
      if (sample) {
        const family = [...families.keys()].find((f) => sample[1] === f || sample[1]!.startsWith(`${f}_`)) ?? sample[1]!;
        for (const m of sample[2]!.matchAll(/(\w+)="/g)) families.get(family)?.add(m[1]!);
      }
    }
  });
  after(async () => {
    await prometheus?.stop();
    await d?.stop();
  });
  /** The daemon's own metrics and the standard process and Node.js ones it exposes. */
  const METRIC_NAME = /\b(?:lwm2m_backend|process|nodejs)_\w+/g;
  let prometheus: Prometheus | undefined;
  const binary = prometheusBinary();

  it('every panel queries the ${datasource} Prometheus variable, filtered by $job and $instance', () => {
    assert.ok(exprs.length >= 15, `${exprs.length} queries`);
    for (const p of daemon.panels.filter((x) => x.type !== 'row'))
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
    for (const { title, expr } of exprs) {
      for (const selector of expr.match(/\{[^}]*\}/g) ?? [])
        assert.equal(selector, '{job="$job", instance=~"$instance"}', `${title}: every selector is the job and instance`);
      assert.ok((expr.match(/\{/g) ?? []).length >= 1, `${title}: ${expr} is filtered`);
    }
  });

  it('names only metrics the daemon exposes, and groups only by labels they carry', () => {
    const used = new Set<string>();
    for (const { title, expr } of exprs) {
      for (const [metric] of expr.matchAll(METRIC_NAME)) {
        used.add(metric);
        assert.ok(families.has(metric), `${title}: ${metric} is in /metrics (# TYPE lines: ${[...families.keys()].length})`);
        const by = /by \(([^)]*)\) \((?:rate\()?(?:lwm2m_backend|process|nodejs)_\w+/.exec(expr);
        if (by) {
          for (const label of by[1]!.split(',').map((s) => s.trim()))
            if (label !== 'instance') assert.ok(families.get(metric)?.has(label), `${title}: ${metric} has the label ${label}`);
        }
      }
    }
    assert.ok(used.size >= 15, `${used.size} metrics used`);
    for (const v of daemon.templating.list.filter((x) => x.type === 'query'))
      for (const [metric] of v.definition.matchAll(METRIC_NAME)) assert.ok(families.has(metric), `variable ${v.name}: ${metric}`);
  });

  it(
    'every query runs on a real Prometheus scraping the daemon, and finds data where the daemon has counted something',
    { skip: binary ? false : 'no prometheus binary (PATH, or apt-get download prometheus)' },
    async (t) => {
      prometheus = await startPrometheus(binary!, [new URL(d.url).host]);
      // rate() over the 5 s window needs two scrapes in it
      await until(async () => Number((await prometheus!.query('count_over_time(up[5s])'))[0]?.value[1] ?? 0) >= 3, 20_000, 'scrapes');
      assert.deepEqual(await prometheus.labelValues('process_start_time_seconds', 'job'), ['lwm2m-backend'], '$job');
      assert.deepEqual(await prometheus.labelValues('process_start_time_seconds', 'instance'), [new URL(d.url).host]);
      const grafana = (expr: string) =>
        expr.replaceAll('$__rate_interval', '5s').replaceAll('$job', 'lwm2m-backend').replaceAll('$instance', '.*');
      const empty: string[] = [];
      for (const { title, expr } of exprs) {
        const result = await prometheus.query(grafana(expr)).catch((err: Error) => assert.fail(`${title}: ${expr}: ${err.message}`));
        if (result.length === 0) empty.push(`${title}: ${expr}`);
        for (const r of result) assert.ok(Number.isFinite(Number(r.value[1])), `${title}: a number`);
      }
      for (const e of empty) t.diagnostic(`no data yet: ${e}`);
      // labelled counters appear in /metrics only once counted: nothing was dropped, and no request went to Leshan
      assert.deepEqual(
        empty.map((e) => e.split(':')[0]),
        ['InfluxDB points', 'Leshan requests'],
      );
    },
  );
});

/**
 * The Grafana dashboard (config/grafana/lwm2m-backend.json) against a real InfluxDB 1.6 fed by the daemon:
 * realistic Leshan posts go through the daemon's routes, then every query of the dashboard (each panel
 * target, nested rows included, and each template variable) is interpolated the way Grafana's InfluxQL
 * data source does it and run on influxd. Every query must run without error; the panels must show
 * exactly what was posted (checked against a ledger of the posts, under three variable selections).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { startInfluxd, type Influxd, type InfluxSeries } from '../../tools/influxd.js';
import { startController, until, type RunningController, influxConnected } from '../support/controllerHarness.js';
import {
  assertMeans,
  assertNames,
  bucketOf,
  countPoints,
  device,
  FIELD,
  INFLUX_DS,
  keyOf,
  Ledger,
  objectName,
  panelTitled,
  queryOf,
  queryOn,
  queryVariables,
  readDashboard,
  readStored,
  resourceName,
  runDashboard,
  temperature,
  TITLES,
  variableQuery,
  walk,
  type DashboardRun,
  type DsRef,
  type Field,
  type Macros,
  type Query,
  type RawEvent,
  type RawPoint,
  type Selection,
  type Sent,
  type SentEvent,
} from '../support/grafana.js';

const dashboard = readDashboard();
const { rows, panels } = walk(dashboard.panels);
const panel = (title: string) => panelTitled(panels, title);

const E1 = 'qemu_x86';
const E2 = 'urn:imei:356938035643809';
const E3 = 'sensor-3.lab';
const DB = 'lwm2m';

// ---------------------------------------------------------------------------------------------------

describe('Grafana dashboard: structure', () => {
  it('asks for no import input: its InfluxDB comes from a datasource variable, so it loads imported or file-provisioned', () => {
    assert.equal(typeof dashboard.title, 'string');
    assert.equal(typeof dashboard.uid, 'string');
    assert.ok(dashboard.schemaVersion! >= 36 && dashboard.schemaVersion! <= 41, `schemaVersion ${dashboard.schemaVersion}`);
    // File provisioning does not replace ${DS_...} placeholders: Grafana would look for a data source named that
    assert.equal(dashboard.__inputs, undefined, 'no __inputs');
    assert.doesNotMatch(JSON.stringify(dashboard), /\$\{DS_/, 'no ${DS_...} placeholder');
    const ds = dashboard.templating.list[0]!;
    assert.deepEqual(
      [ds.type, ds.name, ds.query, ds.multi, ds.includeAll],
      ['datasource', 'datasource', 'influxdb', false, false],
      'the first variable picks one InfluxDB data source',
    );
    // Every data source reference in the model is the variable (or Grafana's built-in annotation source)
    const refs: unknown[] = [];
    JSON.stringify(dashboard, (key, value: unknown) => {
      if (key === 'datasource') refs.push(value);
      return value;
    });
    assert.ok(refs.length > 20, `${refs.length} data source references`);
    for (const r of refs) assert.ok(isDeepStrictEqual(r, INFLUX_DS) || (r as DsRef).type === 'grafana', `data source ${JSON.stringify(r)}`);
    assert.ok(dashboard.__requires?.some((r) => r.type === 'datasource' && r.id === 'influxdb'));
    const panelTypes = new Set(panels.map((p) => p.type));
    for (const t of panelTypes)
      assert.ok(
        dashboard.__requires?.some((r) => r.type === 'panel' && r.id === t),
        `__requires lists panel ${t}`,
      );
    // annotations other than Grafana's built-in one would be queries too
    for (const a of dashboard.annotations?.list ?? []) assert.equal(a.datasource?.type, 'grafana', 'only the built-in annotation');
  });

  it('has the panels, in rows, each with raw InfluxQL targets on the ${datasource} variable', () => {
    assert.deepEqual(
      panels.map((p) => p.title),
      [
        TITLES.numeric,
        TITLES.integer,
        TITLES.temperature,
        TITLES.currentTemperature,
        TITLES.latest,
        TITLES.registrations,
        TITLES.latestRegistration,
        TITLES.ingest,
        TITLES.firmware,
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.title),
      ['Values', 'Registrations', 'Ingest', 'Firmware'],
    );
    for (const r of rows) assert.equal(r.targets, undefined, `row ${r.title} has no queries`);
    const ids = [...rows, ...panels].map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels) {
      assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0, `${p.title} has a place on the grid`);
      assert.deepEqual(p.datasource, INFLUX_DS, `${p.title} datasource`);
      assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `${p.title} has at least one target`);
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds are unique`);
      for (const t of p.targets) {
        const what = `${p.title} / ${t.refId}`;
        assert.ok(typeof t.query === 'string' && t.query.trim().length > 0, `${what} has a query`);
        assert.equal(t.rawQuery, true, `${what} is a raw InfluxQL query`);
        assert.notEqual(t.hide, true, `${what} is not hidden`);
        assert.deepEqual(t.datasource, INFLUX_DS, `${what} datasource`);
        assert.ok(t.resultFormat === 'time_series' || t.resultFormat === 'table', `${what} resultFormat`);
        assert.match(t.query, /\$timeFilter/, `${what} is limited to the dashboard's time range`);
      }
    }
  });

  it('filters by the variables where it should: $ep everywhere but the ingest rate, $object on the value panels', () => {
    for (const p of panels) {
      for (const t of p.targets!) {
        const q = queryOf(t);
        if (p.title === TITLES.ingest) assert.doesNotMatch(q, /\$ep|\$object/, `${p.title} counts every endpoint`);
        else assert.match(q, /"ep" =~ \/\^\$ep\$\//, `${p.title} / ${t.refId} filters by $ep`);
        if (p.title === TITLES.numeric || p.title === TITLES.integer || p.title === TITLES.latest) {
          assert.match(q, /"object" =~ \/\^\$object\$\//, `${p.title} / ${t.refId} filters by $object`);
        }
      }
    }
  });

  it('has the ep and object variables: InfluxDB tag values, multi-value with All', () => {
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['datasource', 'ep', 'object'],
    );
    const vars = queryVariables(dashboard);
    for (const v of vars) {
      assert.equal(v.type, 'query');
      assert.deepEqual(v.datasource, INFLUX_DS);
      assert.equal(v.multi, true, `${v.name} is multi-value`);
      assert.equal(v.includeAll, true, `${v.name} offers All`);
    }
    assert.equal(variableQuery(vars[0]!), 'SHOW TAG VALUES FROM "lwm2m" WITH KEY = "ep"');
    assert.equal(variableQuery(vars[1]!), 'SHOW TAG VALUES FROM "lwm2m" WITH KEY = "object" WHERE "ep" =~ /^$ep$/');
  });
});

describe('Grafana dashboard: every query against a real InfluxDB 1.6 fed by the daemon', () => {
  let influxd: Influxd;
  let d: RunningController;
  const ledger = new Ledger((route, body) => d.post(route, body));
  const { sent, events } = ledger;
  let startedAt = 0;
  let query: Query;

  /** Raw points as stored, per series key, in time order. */
  let raw: Map<string, RawPoint[]>;
  let rawEvents: Map<string, RawEvent[]>;
  const pause = () => new Promise((r) => setTimeout(r, 15));

  before(async () => {
    influxd = await startInfluxd();
    query = queryOn(influxd, DB);
    d = await startController({ influx: { url: influxd.url, database: DB, flushIntervalMs: 20, connectIntervalMs: 100 } });
    await until(() => influxConnected(d.url), 10_000, 'InfluxDB connected');
    startedAt = Date.now();

    // registrations, then what the devices send after registering
    await ledger.register(E1, 'registered', 1732550000000);
    await ledger.register(E2, 'registered', 1732550001000);
    await ledger.register(E3, 'registered', 1732550002000);
    await ledger.postObject(E1, 3, device('Zephyr', 'qemu_x86', '2.0.0', 80, 'Demo'));
    await ledger.postObject(E2, 3, device('Quectel', 'BG95-M3', '1.4.2', 63, 'Tracker'));
    await ledger.postPaths(E3, device('Nordic Semiconductor ASA', 'nRF9160-DK', 'v2.5.0', 97, 'Sensor hub'));
    await ledger.postSingle(E1, { obj: 3303, inst: 0, res: 5701, type: 'STRING', value: 'Cel' });
    // temperatures over several posts: single notifications and composites of two sensors
    for (const t of [21.5, 21.75, 22.125]) {
      await ledger.postSingle(E1, temperature(0, t));
      await pause();
    }
    for (const t of [19, 18.5]) {
      await ledger.postSingle(E2, temperature(0, t));
      await pause();
    }
    await ledger.postPaths(E3, [temperature(0, 4.5), temperature(1, -12.25)]);
    await pause();
    await ledger.postPaths(E3, [temperature(0, 5), temperature(1, -11.5)]);
    await ledger.postSingle(E1, { obj: 3304, inst: 0, res: 5700, type: 'FLOAT', value: 41.5 });
    await ledger.postSingle(E1, { obj: 3304, inst: 0, res: 5700, type: 'FLOAT', value: 43.25 });
    // updates: battery drops, new firmware, a switch toggles, a vendor object without a model
    await ledger.postSingle(E1, { obj: 3, inst: 0, res: 9, type: 'INTEGER', value: 75 });
    await ledger.postSingle(E1, { obj: 3, inst: 0, res: 3, type: 'STRING', value: '2.1.0' });
    await ledger.postPaths(E3, [
      { obj: 3342, inst: 0, res: 5500, type: 'BOOLEAN', value: true },
      { obj: 3342, inst: 0, res: 5501, type: 'INTEGER', value: 1 },
    ]);
    await ledger.postPaths(E3, [
      { obj: 3342, inst: 0, res: 5500, type: 'BOOLEAN', value: false },
      { obj: 3342, inst: 0, res: 5501, type: 'INTEGER', value: 2 },
    ]);
    await ledger.postSingle(E2, { obj: 40000, inst: 0, res: 1, type: 'FLOAT', value: 3.5 });
    // registration updates, one in the same composite as a value, and a deregistration
    await ledger.register(E1, 'updated', 1732550060000);
    await ledger.postPaths(E2, [{ obj: 10240, inst: 0, res: 2, type: 'TIME', value: 1732550061000 }, temperature(0, 18.75)]);
    await ledger.register(E1, 'updated', 1732550120000);
    await ledger.register(E3, 'deregistered', 1732550180000);

    // a firmware update's steps, as the daemon writes them (its panel's figures: test/grafana/firmware.test.ts)
    const steps = [E1, E2, E3].map(
      (ep, i) => `firmware,ep=${ep.replace(/[ ,=]/g, '\\$&')},status=RUNNING,step=observing attempts=0i,id="${i + 1}",version="2"`,
    );
    const written = await fetch(`${influxd.url}/write?db=${DB}`, { method: 'POST', body: steps.join('\n') });
    assert.equal(written.status, 204, await written.text());
    await until(
      async () => (await countPoints(query, 'lwm2m')) === sent.length && (await countPoints(query, 'registration')) === events.length,
      10_000,
      'all points in InfluxDB',
    );
    ({ points: raw, events: rawEvents } = await readStored(query));
  });
  after(async () => {
    await d?.stop();
    await influxd?.destroy();
  });

  it('the daemon stored every posted value in its own series, typed and named, and every registration event', () => {
    const expected = new Map<string, Sent[]>();
    for (const s of sent) expected.set(keyOf(s), [...(expected.get(keyOf(s)) ?? []), s]);
    assert.deepEqual([...raw.keys()].sort(), [...expected.keys()].sort());
    for (const [key, list] of expected) {
      const stored = raw.get(key)!;
      assert.deepEqual(
        stored.map((p) => [p.field, p.value, p.type, p.object, p.resource]),
        list.map((s) => [FIELD[s.type], s.value, s.type, objectName(s), resourceName(s)]),
        key,
      );
    }
    for (const ep of [E1, E2, E3]) {
      assert.deepEqual(
        rawEvents.get(ep)?.map((e) => [e.event, e.time]),
        events.filter((e) => e.ep === ep).map((e) => [e.event, e.time]),
        ep,
      );
    }
    assert.equal(ledger.accepted, sent.length + events.length);
  });

  // -------------------------------------------------------------------------------------------------
  // Three selections of the variables. For each, every query is interpolated and run, and each panel's
  // answer is compared with what its filters should let through.

  interface Scenario {
    name: string;
    selection: (objectOptions: string[]) => Selection;
    macros: () => Macros;
    /** whether every query is expected to find data under this selection */
    everyQueryHasData: boolean;
  }
  const scenarios: Scenario[] = [
    {
      name: 'All endpoints and objects, relative range (last hour)',
      selection: () => ({ ep: 'All', object: 'All' }),
      macros: () => ({ timeFilter: 'time > now() - 1h', interval: '10s' }),
      everyQueryHasData: true,
    },
    {
      name: 'two endpoints and every object the variable offers for them (regex-escaped), absolute range',
      selection: (objects) => ({ ep: [E1, E3], object: objects }),
      macros: () => ({ timeFilter: `time >= ${startedAt - 300_000}ms and time <= ${Date.now() + 300_000}ms`, interval: '10s' }),
      everyQueryHasData: true,
    },
    {
      name: 'one endpoint and one object whose name has a "/" (On/Off switch)',
      selection: () => ({ ep: [E3], object: ['On/Off switch'] }),
      macros: () => ({ timeFilter: 'time > now() - 1h', interval: '10s' }),
      everyQueryHasData: false,
    },
  ];

  for (const sc of scenarios) {
    describe(sc.name, () => {
      let selection: Selection;
      let options: DashboardRun['options'];
      /** Every query's answer, by panel title and refId (and `$name` for variables). */
      let answers: DashboardRun['answers'];
      /** Queries that could not be interpolated or that InfluxDB refused, reported by the first test. */
      let failures: string[];
      const answer = (title: string, refId = 'A'): InfluxSeries[] => {
        const a = answers.get(`${title}/${refId}`);
        assert.ok(a, `${title}/${refId} was run`);
        return a;
      };

      const epSelected = (ep: string) => selection.ep === 'All' || selection.ep.includes(ep);
      const objectNameSelected = (name: string) => selection.object === 'All' || selection.object.includes(name);
      const objectSelected = (s: Sent) => objectNameSelected(objectName(s));

      before(async () => {
        ({ selection, options, answers, failures } = await runDashboard(dashboard, panels, sc.selection, sc.macros(), query));
      });

      it('every query runs without error' + (sc.everyQueryHasData ? ' and finds data' : ''), () => {
        assert.deepEqual(failures, [], 'every query runs');
        const all = [
          ...queryVariables(dashboard).map((v) => `$${v.name}`),
          ...panels.flatMap((p) => (p.targets ?? []).map((t) => `${p.title}/${t.refId}`)),
        ];
        assert.deepEqual([...answers.keys()], all, 'every query was run');
        if (sc.everyQueryHasData) {
          for (const [name, series] of answers)
            assert.ok(series.length > 0 && series.every((s) => s.values.length > 0), `${name} found data`);
        }
        // nothing from an endpoint outside the selection
        for (const [name, series] of answers) {
          for (const s of series) if (s.tags?.ep !== undefined) assert.ok(epSelected(s.tags.ep), `${name}: ${s.tags.ep} is not selected`);
        }
      });

      it('the variables offer the endpoints, and the objects of the chosen endpoints', () => {
        assert.deepEqual(options.get('ep'), [E1, E2, E3].sort());
        const objects = [
          ...new Set(
            sent
              .filter((s) => epSelected(s.ep))
              .map(objectName)
              .filter((n) => n !== ''),
          ),
        ].sort();
        assert.deepEqual(options.get('object'), objects);
        assert.ok(objects.includes('On/Off switch') === epSelected(E3));
      });

      const byResource = (t: Record<string, string | undefined>) => keyOf(t);

      it('Numeric values: per-interval means of the posted floats, per endpoint and resource', () => {
        const series = answer(TITLES.numeric);
        assertMeans(series, raw, sent, (s) => FIELD[s.type] === 'float' && epSelected(s.ep) && objectSelected(s), byResource);
        assertNames(series);
        if (selection.object === 'All')
          assert.ok(
            series.some((s) => s.tags?.obj === '40000'),
            'objects without a model show under All',
          );
      });

      it('Integer values: per-interval means per resource instance, without TIME values', () => {
        const series = answer(TITLES.integer);
        assertMeans(
          series,
          raw,
          sent,
          (s) => FIELD[s.type] === 'int' && s.type !== 'TIME' && epSelected(s.ep) && objectSelected(s),
          byResource,
        );
        assertNames(series);
        assert.ok(!series.some((s) => s.tags?.obj === '3' && s.tags.res === '13'), 'Current Time (TIME) is not plotted');
        if (epSelected(E1) && objectNameSelected('Device')) {
          const ri = series.filter((s) => s.tags?.ep === E1 && s.tags.obj === '3' && s.tags.res === '7');
          assert.deepEqual(
            ri.map((s) => [s.tags!.ri, s.values.at(-1)![1]]),
            [
              ['0', 3300],
              ['1', 5000],
            ],
            'multi-instance resource: one series per instance',
          );
        }
      });

      it('Temperature: per-interval means of 3303 Sensor Value per endpoint and instance; Current temperature: the last one posted', () => {
        const temps = (s: Sent) => s.obj === 3303 && s.res === 5700 && epSelected(s.ep);
        assertMeans(answer(TITLES.temperature), raw, sent, temps, (t) => `${t.ep}#${t.inst}`);
        const last = new Map<string, number>();
        for (const s of sent.filter(temps)) last.set(`${s.ep}#${s.inst}`, s.value as number);
        const current = answer(TITLES.currentTemperature);
        assert.deepEqual(new Map(current.map((s) => [`${s.tags!.ep}#${s.tags!.inst}`, s.values.at(-1)![1]])), last);
        if (epSelected(E1)) assert.equal(last.get(`${E1}#0`), 22.125);
        if (epSelected(E2)) assert.equal(last.get(`${E2}#0`), 18.75);
        if (epSelected(E3)) assert.equal(last.get(`${E3}#1`), -11.5);
      });

      it('Latest values: the last value of every resource with the time it was received, one target per field', () => {
        const targets = panel(TITLES.latest).targets!;
        const fields = targets.map((t) => queryOf(t).match(/last\("(\w+)"\)/)?.[1]);
        assert.deepEqual([...fields].sort(), ['bool', 'float', 'int', 'string'], 'one target per value field');
        targets.forEach((t, i) => {
          const field = fields[i] as Field;
          const expected = new Map<string, Sent>();
          for (const s of sent) if (FIELD[s.type] === field && epSelected(s.ep) && objectSelected(s)) expected.set(keyOf(s), s);
          const series = answer(TITLES.latest, t.refId);
          const got = new Map(series.map((s) => [keyOf(s.tags ?? {}), s]));
          assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), `${field}: one row per resource`);
          for (const [key, s] of expected) {
            const row = got.get(key)!;
            assert.equal(row.values.length, 1, key);
            const [time, value] = row.values[0]!;
            assert.deepEqual(value, s.value, `${key}: last ${field}`);
            assert.equal(time, raw.get(key)!.at(-1)!.t, `${key}: time of the last value (not the start of the range)`);
            assert.ok((time as number) >= startedAt - 1000);
            assert.deepEqual(
              [row.tags!.object, row.tags!.resource, row.tags!.type],
              [objectName(s), resourceName(s), s.type],
              `${key}: names and type`,
            );
          }
          const value = (ep: string, path: string) => got.get(`${ep}|${path}`)?.values[0]![1];
          if (field === 'string' && epSelected(E1) && objectNameSelected('Device')) {
            assert.equal(value(E1, '3|0|0|'), 'Zephyr', 'Manufacturer');
            assert.equal(value(E1, '3|0|3|'), '2.1.0', 'the newer Firmware Version');
          }
          if (field === 'string' && epSelected(E3) && objectNameSelected('Device'))
            assert.equal(value(E3, '3|0|0|'), 'Nordic Semiconductor ASA');
          if (field === 'int' && epSelected(E1) && objectNameSelected('Device')) {
            assert.equal(value(E1, '3|0|9|'), 75, 'the newer Battery Level');
            assert.equal(value(E1, '3|0|13|'), 1732550000123, 'Current Time (TIME) as ms');
          }
          if (field === 'bool' && epSelected(E3) && objectNameSelected('On/Off switch'))
            assert.equal(value(E3, '3342|0|5500|'), false, 'the switch is off now');
        });
      });

      it('Registration events: counts per event and interval as posted; latest event per endpoint', () => {
        const selected = events.filter((e) => epSelected(e.ep));
        const expected = new Map<string, Map<number, number>>();
        for (const [ep, list] of rawEvents) {
          if (!epSelected(ep)) continue;
          for (const e of list) {
            const m = expected.get(e.event) ?? new Map<number, number>();
            m.set(bucketOf(e.t), (m.get(bucketOf(e.t)) ?? 0) + 1);
            expected.set(e.event, m);
          }
        }
        const counts = answer(TITLES.registrations);
        assert.deepEqual(
          new Map(
            counts.map((s) => [s.tags!.event!, new Map(s.values.filter((v) => v[1] !== 0).map((v) => [v[0] as number, v[1] as number]))]),
          ),
          expected,
        );
        const totals = Object.fromEntries(counts.map((s) => [s.tags!.event, s.values.reduce((a, v) => a + (v[1] as number), 0)]));
        const posted: Record<string, number> = {};
        for (const e of selected) posted[e.event] = (posted[e.event] ?? 0) + 1;
        assert.deepEqual(totals, posted, 'counts per event = posted per event');
        if (selection.ep === 'All') assert.deepEqual(posted, { registered: 3, updated: 3, deregistered: 1 });

        const latest = answer(TITLES.latestRegistration);
        const lastPosted = new Map<string, SentEvent>();
        for (const e of selected) lastPosted.set(e.ep, e);
        assert.deepEqual(
          new Map(
            latest.map((s) => {
              const row = s.values[0]!;
              return [s.tags!.ep!, [row[s.columns.indexOf('event')], row[s.columns.indexOf('registration_time')]]];
            }),
          ),
          new Map([...lastPosted].map(([ep, e]) => [ep, [e.event, e.time]])),
        );
        if (epSelected(E3)) assert.equal(lastPosted.get(E3)?.event, 'deregistered');
        if (epSelected(E2)) assert.equal(lastPosted.get(E2)?.event, 'updated');
      });

      it('Ingest rate: points per interval add up to every value the daemon accepted', () => {
        const perBucket = (series: InfluxSeries[]) => {
          const m = new Map<number, number>();
          for (const s of series) {
            for (const row of s.values) {
              const n = row.slice(1).reduce<number>((a, b) => a + (b as number), 0);
              if (n !== 0) m.set(row[0] as number, (m.get(row[0] as number) ?? 0) + n);
            }
          }
          return m;
        };
        const expectedData = new Map<number, number>();
        for (const points of raw.values())
          for (const p of points) expectedData.set(bucketOf(p.t), (expectedData.get(bucketOf(p.t)) ?? 0) + 1);
        const expectedEvents = new Map<number, number>();
        for (const list of rawEvents.values())
          for (const e of list) expectedEvents.set(bucketOf(e.t), (expectedEvents.get(bucketOf(e.t)) ?? 0) + 1);
        const targets = panel(TITLES.ingest).targets!;
        const data = targets.filter((t) => /FROM "lwm2m"/.test(queryOf(t)));
        const reg = targets.filter((t) => /FROM "registration"/.test(queryOf(t)));
        assert.equal(data.length, 1);
        assert.equal(reg.length, 1);
        const dataCounts = perBucket(answer(TITLES.ingest, data[0]!.refId));
        const regCounts = perBucket(answer(TITLES.ingest, reg[0]!.refId));
        assert.deepEqual(dataCounts, expectedData);
        assert.deepEqual(regCounts, expectedEvents);
        const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
        assert.equal(total(dataCounts) + total(regCounts), ledger.accepted, 'every accepted value is counted once');
        assert.equal(total(dataCounts), sent.length);
      });
    });
  }
});

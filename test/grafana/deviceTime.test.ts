/**
 * The Grafana dashboard (config/grafana/lwm2m-backend.json) on data a device timestamped: a day of
 * readings delivered in one LwM2M Send (posted to the daemon's timestamped route, newest first as a
 * device may batch them) must show across that day at the device's times, not as one instant at the
 * delivery. Every query of the dashboard runs on a real influxd over that day; the temperature panels
 * are checked against the readings.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInfluxd, type Influxd, type InfluxSeries } from '../../tools/influxd.js';
import { startController, until, type RunningController, influxConnected } from '../support/controllerHarness.js';
import {
  assertClose,
  countPoints,
  queryOn,
  readDashboard,
  runDashboard,
  walk,
  type Macros,
  type Panel,
  type Query,
} from '../support/grafana.js';

const dashboard = readDashboard();
const { panels } = walk(dashboard.panels);
const DB = 'lwm2m';
const EP = 'sleeper';
const HOUR_MS = 3_600_000;
const STEP_MS = 30 * 60_000;

/** The panel targets whose query matches every pattern (the dashboard is found by what it asks, not by layout). */
function targetsAsking(...patterns: RegExp[]): { panel: Panel; refId: string }[] {
  return panels.flatMap((panel) =>
    (panel.targets ?? []).filter((t) => patterns.every((p) => p.test(t.query ?? ''))).map((t) => ({ panel, refId: t.refId ?? 'A' })),
  );
}

describe('Grafana dashboard on device-timestamped data (a day of readings in one Send)', () => {
  let influxd: Influxd;
  let d: RunningController;
  let query: Query;
  // a whole UTC day that ended at least a day ago: hour buckets line up with InfluxDB's
  const dayStart = Math.floor(Date.now() / (24 * HOUR_MS)) * 24 * HOUR_MS - 2 * 24 * HOUR_MS;
  const dayEnd = dayStart + 24 * HOUR_MS - 1;
  /** Two sensors, one reading each every 30 min over the day. */
  const readings = [0, 1].flatMap((inst) =>
    Array.from({ length: 48 }, (_, i) => ({
      inst,
      t: dayStart + i * STEP_MS,
      value: (inst === 0 ? 18 : -5) + Math.sin(i / 5) * 4 + i / 16,
    })),
  );
  const LIVE = 99.5;

  before(async () => {
    influxd = await startInfluxd();
    query = queryOn(influxd, DB);
    d = await startController({ influx: { url: influxd.url, database: DB, flushIntervalMs: 20, connectIntervalMs: 100 } });
    await until(() => influxConnected(d.url), 10_000, 'InfluxDB connected');
    // one entry per timestamp, newest first: arrival order is not device order
    const times = [...new Set(readings.map((r) => r.t))].sort((a, b) => b - a);
    const val = times.map((t) => ({
      [new Date(t).toISOString()]: {
        nodes: Object.fromEntries(
          readings
            .filter((r) => r.t === t)
            .map((r) => [`/3303/${r.inst}/5700`, { kind: 'singleResource', id: 5700, type: 'FLOAT', value: r.value }]),
        ),
      },
    }));
    const sent = await d.post('/leshan_api/resource/timestamped', { ep: EP, val });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.deepEqual(sent.body, { accepted: readings.length });
    // then a live notification, at arrival time
    const live = await d.post('/leshan_api/resource/composite', {
      ep: EP,
      val: { '/3303/0/5700': { kind: 'singleResource', id: 5700, type: 'FLOAT', value: LIVE } },
    });
    assert.equal(live.status, 201);
    await until(async () => (await countPoints(query, 'lwm2m')) === readings.length + 1, 10_000, 'all points in InfluxDB');
  });
  after(async () => {
    await d?.stop();
    await influxd?.destroy();
  });

  const overTheDay = (): Macros => ({ timeFilter: `time >= ${dayStart}ms and time <= ${dayEnd}ms`, interval: '1h' });
  const run = (macros: Macros) => runDashboard(dashboard, panels, () => ({ ep: [EP], object: 'All' }), macros, query);
  const byInst = (series: InfluxSeries[]) => new Map(series.map((s) => [s.tags?.inst, s]));

  it('every query runs over the day, and whatever it shows lies within the day', async () => {
    const { failures, answers } = await run(overTheDay());
    assert.deepEqual(failures, []);
    for (const [name, series] of answers) {
      for (const s of series) {
        for (const row of s.values) {
          if (typeof row[0] === 'number') assert.ok(row[0] >= dayStart && row[0] <= dayEnd, `${name}: ${row[0]} within the day`);
        }
      }
    }
  });

  it('the temperature means per hour are the readings of that hour, at the device times (24 hours, not one instant)', async () => {
    const targets = targetsAsking(/mean\("float"\)/, /"obj" = '3303'/, /GROUP BY time\(\$__interval\)/);
    assert.ok(targets.length > 0, 'the dashboard has a temperature mean over time');
    const { answers } = await run(overTheDay());
    for (const { panel, refId } of targets) {
      const got = byInst(answers.get(`${panel.title}/${refId}`)!);
      assert.deepEqual([...got.keys()].sort(), ['0', '1'], `${panel.title}: one series per sensor`);
      for (const inst of [0, 1]) {
        const rows = got.get(String(inst))!.values;
        assert.equal(rows.length, 24, `${panel.title} sensor ${inst}: 24 hours`);
        rows.forEach(([t, mean], h) => {
          assert.equal(t, dayStart + h * HOUR_MS);
          const inHour = readings
            .filter((r) => r.inst === inst && r.t >= (t as number) && r.t < (t as number) + HOUR_MS)
            .map((r) => r.value);
          assert.equal(inHour.length, 2);
          assertClose(mean, (inHour[0]! + inHour[1]!) / 2, `${panel.title} sensor ${inst} hour ${h}`);
        });
      }
    }
  });

  it("the latest temperature of the day is the device's last reading, though it was delivered first", async () => {
    const targets = targetsAsking(/last\("float"\)/, /"obj" = '3303'/);
    assert.ok(targets.length > 0, 'the dashboard has a current temperature');
    const { answers } = await run(overTheDay());
    for (const { panel, refId } of targets) {
      const got = byInst(answers.get(`${panel.title}/${refId}`)!);
      for (const inst of [0, 1]) {
        const last = readings.filter((r) => r.inst === inst).at(-1)!;
        assert.deepEqual(got.get(String(inst))?.values, [[last.t, last.value]], `${panel.title} sensor ${inst}`);
      }
    }
  });

  it('over the last hour the panels show only the live reading, not the day delivered now', async () => {
    const { failures, answers } = await run({ timeFilter: 'time > now() - 1h', interval: '1m' });
    assert.deepEqual(failures, []);
    for (const { panel, refId } of targetsAsking(/"float"/, /"obj" = '3303'/)) {
      const series = answers.get(`${panel.title}/${refId}`)!;
      assert.deepEqual(
        series.map((s) => [s.tags?.inst, s.values.map((row) => row[1])]),
        [['0', [LIVE]]],
        `${panel.title}/${refId}`,
      );
    }
  });
});

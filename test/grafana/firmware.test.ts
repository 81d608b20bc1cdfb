/**
 * The dashboard's "Firmware updates by status" panel against a real InfluxDB 1.6 fed by the daemon: two
 * firmware updates run through the daemon (Leshan double), one SUCCEEDED and one FAILED; the panel's query,
 * interpolated as Grafana does, counts their steps and ends.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, influxConnected, type RunningController } from '../support/controllerHarness.js';
import { operator, postRegistration } from '../support/fleet.js';
import { queryOn, readDashboard, runDashboard, TITLES, walk, type Query } from '../support/grafana.js';

const DB = 'lwm2m';
const int = (id: number, value: number) => ({ kind: 'singleResource', id, type: 'INTEGER', value });

describe('Grafana: firmware updates by status, against a real InfluxDB fed by the daemon', () => {
  let influxd: Influxd;
  let leshan: LeshanDouble;
  let d: RunningController;
  let query: Query;

  before(async () => {
    influxd = await startInfluxd();
    query = queryOn(influxd, DB);
    leshan = await startLeshanDouble({ timeScale: 0.02 });
    d = await startController({
      leshan: { url: leshan.url, requestTimeoutS: 5 },
      influx: { url: influxd.url, database: DB, flushIntervalMs: 20, connectIntervalMs: 100 },
    });
    await until(() => influxConnected(d.url), 10_000, 'InfluxDB connected');
    const api = operator(d);
    const get = async (id: string) => (await api.call('GET', `/api/firmware/${id}`)).body;
    const register = async (ep: string) => {
      leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });
      await postRegistration(d, ep, 'registered');
    };
    const notify = (ep: string, node: unknown) => d.post('/leshan_api/resource/single', { ep, obj_id: 5, val: node });
    const start = async (ep: string) => {
      await register(ep);
      const id = (await api.call('POST', `/api/endpoints/${ep}/firmware`, { uri: 'coap://fw.example/pkg.bin', version: '2.0' })).body.id;
      await until(async () => (await get(id)).step === 'downloading', 10_000, 'downloading');
      return id as string;
    };
    // one succeeds
    const ok = await start('fw-grafana-1');
    leshan.answer('fw-grafana-1', '/3/0/3', { kind: 'success', content: { kind: 'singleResource', id: 3, type: 'STRING', value: '2.0' } });
    await notify('fw-grafana-1', int(3, 2));
    await until(async () =>
      ((await api.call('GET', '/api/operations?ep=fw-grafana-1&status=CONFIRMED')).body.items as any[]).some((o) => o.path === '/5/0/2'),
    );
    await register('fw-grafana-1');
    await until(async () => (await get(ok)).status === 'SUCCEEDED', 10_000, 'SUCCEEDED');
    // one fails: invalid URI
    const bad = await start('fw-grafana-2');
    await notify('fw-grafana-2', int(5, 7));
    await until(async () => (await get(bad)).status === 'FAILED', 10_000, 'FAILED');
    // 5 RUNNING steps and an end, 3 RUNNING steps and an end
    const stored = async () => ((await query('SELECT count("attempts") FROM "firmware"'))[0]?.values[0]?.[1] as number | undefined) ?? 0;
    await until(async () => (await stored()) === 10, 10_000, 'the firmware points in InfluxDB');
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
    await influxd?.destroy();
  });

  it('counts the steps taken (RUNNING) and the updates ended, by status, for the selected endpoints', async () => {
    const dashboard = readDashboard();
    const { panels } = walk(dashboard.panels);
    const totals = async (ep: string[] | 'All') => {
      const run = await runDashboard(
        dashboard,
        panels,
        () => ({ ep, object: 'All' }),
        { timeFilter: 'time > now() - 1h', interval: '1h' },
        query,
      );
      assert.deepEqual(run.failures, []);
      const series = run.answers.get(`${TITLES.firmware}/A`)!;
      return Object.fromEntries(series.map((s) => [s.tags!.status, s.values.reduce((sum, v) => sum + (v[1] as number), 0)]));
    };
    assert.deepEqual(await totals('All'), { FAILED: 1, RUNNING: 8, SUCCEEDED: 1 });
    assert.deepEqual(await totals(['fw-grafana-2']), { FAILED: 1, RUNNING: 3 });
  });
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import { until } from '../support/controllerHarness.js';
import { postMany } from '../support/load.js';

const single = '/leshan_api/resource/single';
const value = (ep: string) => (i: number) => ({
  ep,
  obj_id: 3303,
  val: { kind: 'singleResource', id: 5700, type: 'FLOAT', value: String(i) },
});

describe('nothing acknowledged is lost (real daemon process, real influxd)', () => {
  let influxd: Influxd;
  let dataDir: string;
  const daemons: DaemonProcess[] = [];
  const count = async (ep: string, db = 'outage'): Promise<number> =>
    Number((await influxd.queryCsv(`SELECT count("float") FROM lwm2m WHERE ep='${ep}'`, db))[0]?.count ?? 0);

  before(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-outage-'));
  });
  after(async () => {
    for (const d of daemons) await d.cleanup();
    await influxd.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async (db: string, extra: Record<string, unknown> = {}): Promise<DaemonProcess> => {
    const d = await startDaemon({
      dataDir,
      config: { influx: { url: influxd.url, database: db, connectIntervalMs: 100, flushIntervalMs: 50, ...extra } },
    });
    daemons.push(d);
    return d;
  };

  it('10 000 values posted around an InfluxDB outage and a daemon restart are all there, once', async () => {
    const first = await start('outage');
    assert.deepEqual([...(await postMany(first.url, single, 2000, value('outage')))], [[201, 2000]]);
    await until(async () => (await count('outage')) === 2000, 10_000, 'first 2000 written');

    await influxd.stop();
    assert.deepEqual([...(await postMany(first.url, single, 3000, (i) => value('outage')(2000 + i)))], [[201, 3000]]);
    const stopped = await first.signal('SIGTERM');
    assert.equal(stopped.code, 0);

    const second = await start('outage');
    assert.deepEqual([...(await postMany(second.url, single, 5000, (i) => value('outage')(5000 + i)))], [[201, 5000]]);
    const health = (await (await fetch(`${second.url}/health`)).json()) as { checks: { influx: { spooled: number } } };
    assert.ok(health.checks.influx.spooled > 0, 'points wait in the spool while InfluxDB is down');

    await influxd.start();
    await until(async () => (await count('outage')) >= 10_000, 20_000, 'all 10 000 values written');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await count('outage'), 10_000);
    const distinct = await influxd.queryCsv(`SELECT count(distinct("float")) FROM lwm2m WHERE ep='outage'`, 'outage');
    assert.equal(Number(distinct[0]?.count), 10_000, 'every posted value exactly once');
    assert.equal((await second.signal('SIGTERM')).code, 0);
  });

  it('SIGTERM writes what is buffered before exiting', async () => {
    const d = await start('flush', { flushIntervalMs: 60_000 });
    assert.deepEqual([...(await postMany(d.url, single, 300, value('flush')))], [[201, 300]]);
    assert.equal(await count('flush', 'flush'), 0, 'nothing written yet: the flush interval is a minute');
    const exit = await d.signal('SIGTERM');
    assert.equal(exit.code, 0);
    assert.equal(await count('flush', 'flush'), 300);
  });
});

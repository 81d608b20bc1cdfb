import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { describeValue, sampleValues } from '../../demo/narration.js';
import { demoOptions, DemoUsageError, pickPort, withRealDefaults } from '../../demo/options.js';
import { shell, startDemo } from './startDemo.js';

describe('npm run demo (demo/run.ts)', { concurrency: 2 }, () => {
  it('runs for DEMO_SECONDS with a private influxd: devices wake, values land in InfluxDB, the queued write is CONFIRMED, the curl lines work', async () => {
    const demo = startDemo({
      DEMO_SECONDS: '12',
      DEMO_DEVICES: '6',
      DEMO_AWAKE_MS: '1000',
      DEMO_ASLEEP_MS: '1500',
      DEMO_OPERATION_AFTER_S: '3',
      DEMO_INFLUX: 'private',
      DEMO_FIRMWARE: '0',
    });
    try {
      // while it runs, the commands it suggests work against the running daemon and InfluxDB
      const [, api] = await demo.waitFor(/^ {12}curl -sS (http:\/\/127\.0\.0\.1:\d+)\/api\/endpoints +#/m, 15_000);
      const listLine = /^ {12}(curl -sS \S+\/api\/endpoints) +#/m.exec(demo.out())![1]!;
      const listed = JSON.parse(await shell(listLine)) as { items: { ep: string; registered: boolean }[] };
      assert.deepEqual(
        listed.items.map((i) => i.ep),
        ['demo-sensor-01', 'demo-sensor-02', 'demo-sensor-03', 'demo-sensor-04', 'demo-sensor-05', 'demo-sensor-06'],
      );
      const writeLine = new RegExp(
        `^ {12}(curl -sS -X POST ${api}/api/endpoints/demo-sensor-02/operations .*"path":"/5/0/1".*)$`,
        'm',
      ).exec(demo.out())![1]!;
      const queued = JSON.parse(await shell(writeLine)) as { id: string; ep: string; kind: string; path: string; status: string };
      assert.deepEqual([queued.ep, queued.kind, queued.path], ['demo-sensor-02', 'write', '/5/0/1']);
      const [, influxLine] = await demo.waitFor(/^ {12}(curl -sS -G http:\/\/127\.0\.0\.1:\d+\/query .*)$/m, 1000);
      await demo.waitFor(/new values? .*in InfluxDB/, 10_000);
      const influx = JSON.parse(await shell(influxLine!)) as {
        results: { series?: { tags: { ep: string }; values: [string, number][] }[] }[];
      };
      const series = influx.results[0]!.series ?? [];
      assert.ok(series.length >= 1, `the InfluxDB query line answers temperatures: ${JSON.stringify(influx)}`);
      for (const s of series) assert.ok(s.values[0]![1] >= 5 && s.values[0]![1] <= 35, JSON.stringify(s));
      const mine = (await (await fetch(`${api}/api/operations/${queued.id}`)).json()) as { status: string };
      assert.ok(['QUEUED', 'SENDING', 'CONFIRMED'].includes(mine.status));
    } catch (err) {
      demo.child.kill('SIGKILL');
      throw err;
    }

    const { code, signal, ms } = await demo.exited;
    const out = demo.out();
    assert.equal(signal, null, out);
    assert.equal(code, 0, `${out}\n${demo.err()}`);
    assert.ok(ms < 25_000, `took ${ms} ms`);
    assert.equal(demo.err(), '');
    // one happening per line, each with a time; no JSON dumps
    const timed = out.split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}\S/.test(l));
    assert.ok(timed.length > 20, out);
    assert.doesNotMatch(out, /^\s*[{[]"/m, 'no JSON dumps');
    assert.doesNotMatch(out, /"level":/, "the daemon's JSON log is not shown as is");

    assert.match(out, /InfluxDB: the private influxd is at http:\/\/127\.0\.0\.1:\d+, database "lwm2m_demo"/);
    assert.match(out, /health: ok/);
    assert.match(out, /6 devices registered with Leshan: demo-sensor-01 \.\.\. demo-sensor-06/);
    const wakes = out.match(/^\d\d:\d\d:\d\d {2}demo-sensor-0[1-6] woke up: registration update, temperature \d+\.\d °C/gm) ?? [];
    assert.ok(wakes.length >= 12, `devices wake (${wakes.length}):\n${out}`);
    const landed = [...out.matchAll(/^\d\d:\d\d:\d\d {2}(\d+) new values? (?:and \d+ registration events? )?in InfluxDB \((.*)\)$/gm)];
    assert.ok(landed.length >= 2, `values land in InfluxDB, seen at several polls:\n${out}`);
    assert.ok(
      landed.some((m) => /demo-sensor-0[1-6] temperature \d+\.\d °C/.test(m[2]!)),
      out,
    );
    const total = landed.reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(total >= 12, `${total} values landed`);

    // the demo's own operation: printed as curl, then its statuses as the device wakes
    const queuedFor =
      /now an operator queues a firmware URL write \(5\/0\/1\) for (demo-sensor-0[1-6]), which is asleep; the same as:\n {12}curl -sS -X POST http:\/\/127\.0\.0\.1:\d+\/api\/endpoints\/(demo-sensor-0[1-6])\/operations -H 'Content-Type: application\/json' -d '(\{.*\})'\n/.exec(
        out,
      );
    assert.ok(queuedFor, out);
    assert.equal(queuedFor[2], queuedFor[1]);
    assert.deepEqual(JSON.parse(queuedFor[3]!), {
      kind: 'write',
      path: '/5/0/1',
      value: 'https://example.com/firmware/demo-sensor-2.1.bin',
    });
    const ep = queuedFor[1]!;
    const id = new RegExp(`operation (\\d+) is QUEUED: ${ep} is asleep`).exec(out)?.[1];
    assert.ok(id, out);
    const statuses = [...out.matchAll(new RegExp(`operation ${id} is ([A-Z]+)`, 'g'))].map((m) => m[1]);
    assert.equal(statuses[0], 'QUEUED');
    assert.equal(statuses.at(-1), 'CONFIRMED', out);
    assert.match(out, new RegExp(`operation ${id} is CONFIRMED: ${ep} answered CHANGED\\(204\\)`));
    assert.match(out, new RegExp(`${ep} received write /5/0/1 = "https://example.com/firmware/demo-sensor-2.1.bin" from Leshan`));
    const queuedAt = out.indexOf(`operation ${id} is QUEUED`);
    const wokeAt = out.indexOf(`${ep} woke up`, queuedAt);
    assert.ok(
      wokeAt > queuedAt && wokeAt < out.indexOf(`operation ${id} is CONFIRMED`),
      `queued while asleep, sent at its wake-up:\n${out}`,
    );

    assert.doesNotMatch(out, /firmware campaign/, 'DEMO_FIRMWARE=0: no campaign');
    assert.match(out, /stopping \(DEMO_SECONDS=12 elapsed\)/);
    assert.match(out, /lwm2m-backend stopped \(exit code 0\)/);
    assert.match(out, /private influxd stopped and removed/);
    assert.match(
      out,
      /summary: 6 devices, \d+ wake-ups, \d+ values sent \(\d+ seen in InfluxDB\), [2-9] operations delivered to devices, example operation CONFIRMED/,
    );
  });

  it('after the example operation, runs a firmware campaign over the fleet and narrates it until every update SUCCEEDED', async () => {
    const demo = startDemo({
      DEMO_DEVICES: '3',
      DEMO_AWAKE_MS: '800',
      DEMO_ASLEEP_MS: '1000',
      DEMO_OPERATION_AFTER_S: '2',
      DEMO_INFLUX: 'none',
      DEMO_FIRMWARE_CONCURRENT: '2',
    });
    let followLines: string[];
    try {
      await demo.waitFor(/firmware campaign \d+ ended after .*\n.*\n {12}curl -sS '\S+\/api\/firmware\?limit=100'\n/, 35_000);
      followLines = [
        ...demo.out().matchAll(/^ {12}(curl -sS \S+\/api\/firmware\/campaigns\/\d+|curl -sS '\S+\/api\/firmware\?limit=100')$/gm),
      ].map((m) => m[1]!);
      assert.equal(followLines.length, 2, demo.out());
      // the lines it prints to follow the campaign work against the running daemon
      const campaign = JSON.parse(await shell(followLines[0]!)) as { counts: Record<string, number>; done: boolean; endpoints: string[] };
      assert.deepEqual([campaign.done, campaign.counts.SUCCEEDED, campaign.counts.FAILED], [true, 3, 0]);
      assert.deepEqual(campaign.endpoints, ['demo-sensor-01', 'demo-sensor-02', 'demo-sensor-03']);
      const updates = JSON.parse(await shell(followLines[1]!)) as { items: { ep: string; status: string; version: string }[] };
      assert.deepEqual(
        updates.items.map((u) => [u.ep, u.status, u.version]).sort(),
        [1, 2, 3].map((i) => [`demo-sensor-0${i}`, 'SUCCEEDED', '2.1']),
      );
    } catch (err) {
      demo.child.kill('SIGKILL');
      throw err;
    }
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    const out = demo.out();
    assert.equal(code, 0, `${out}\n${demo.err()}`);

    // created exactly as the curl line shows, once the example operation ended
    const created =
      /now an operator updates the firmware of every demo-sensor-\* device from 2\.0 to 2\.1, 2 at a time; the same as:\n {12}curl -sS -X POST http:\/\/127\.0\.0\.1:\d+\/api\/firmware\/campaigns -H 'Content-Type: application\/json' -d '(\{.*\})'\n/.exec(
        out,
      );
    assert.ok(created, out);
    assert.deepEqual(JSON.parse(created[1]!), {
      uri: 'https://example.com/firmware/demo-sensor-2.1.bin',
      version: '2.1',
      match: 'demo-sensor-*',
      maxConcurrent: 2,
    });
    assert.ok(out.indexOf('now an operator updates the firmware') > out.search(/operation \d+ is CONFIRMED/), out);
    const campaignAt = created.index;
    // each device, in order: the URI, the download, the execute, the new registration; the daemon: SUCCEEDED
    for (const ep of ['demo-sensor-01', 'demo-sensor-02', 'demo-sensor-03']) {
      const at = [
        `${ep} got the package URI and starts downloading it (5/0/3 State: Downloading, notified)`,
        `${ep} finished the download (5/0/3 State: Downloaded, notified)`,
        `${ep} received the execute of 5/0/2: it installs the package and restarts`,
        `${ep} registered again with Leshan, now running firmware 2.1 (3/0/3)`,
      ].map((line) => out.indexOf(line, campaignAt));
      const succeeded = out.search(new RegExp(`firmware update \\d+ \\(${ep}\\): SUCCEEDED: ${ep} runs 2\\.1`));
      assert.ok(at.every((i, k) => i > campaignAt && (k === 0 || i > at[k - 1]!)) && succeeded > at[3]!, `${ep}: ${at}\n${out}`);
    }
    // the counts by status as they change: never more RUNNING than maxConcurrent, all SUCCEEDED at the end
    const counts = [...out.matchAll(/^\d\d:\d\d:\d\d {2}firmware campaign \d+: (.*)$/gm)].map((m) => m[1]!);
    assert.ok(counts.length >= 2, out);
    for (const c of counts) assert.ok(Number(/(\d+) RUNNING/.exec(c)?.[1] ?? 0) <= 2, c);
    assert.equal(counts.at(-1), '3 SUCCEEDED');
    assert.match(out, /firmware campaign \d+ ended after \d+\.\d s: 3 SUCCEEDED, 0 FAILED of 3 devices/);
    assert.match(out, /summary: 3 devices, .*example operation CONFIRMED, firmware campaign: 3 SUCCEEDED, 0 FAILED$/m);
  });

  it('without InfluxDB says plainly that values are not stored, still runs, and stops cleanly on SIGINT (exit 0)', async () => {
    const demo = startDemo({
      DEMO_DEVICES: '3',
      DEMO_AWAKE_MS: '500',
      DEMO_ASLEEP_MS: '500',
      DEMO_OPERATION_AFTER_S: '600',
      DEMO_INFLUX: 'none',
    });
    let pid: number;
    try {
      pid = Number((await demo.waitFor(/lwm2m-backend is running \(pid (\d+)\)/, 20_000))[1]);
      await demo.waitFor(/health: fail, failing: influx/, 10_000);
      await demo.waitFor(/demo-sensor-0[1-3] woke up/, 5000);
    } catch (err) {
      demo.child.kill('SIGKILL');
      throw err;
    }
    demo.child.kill('SIGINT'); // only the demo gets it (a terminal's Ctrl-C also reaches the daemon): it must stop the daemon itself
    const { code, signal } = await demo.exited;
    const out = demo.out();
    assert.equal(signal, null, out);
    assert.equal(code, 0, `${out}\n${demo.err()}`);
    assert.match(out, /InfluxDB: none \(DEMO_INFLUX=none\)\. Values are NOT stored/);
    assert.doesNotMatch(out, /in InfluxDB \(/);
    assert.match(out, /stopping \(Ctrl-C\)/);
    assert.match(out, /lwm2m-backend stopped \(exit code 0\)/);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the daemon is gone');
  });

  it('refuses bad DEMO_* values with every problem at once (exit 2)', async () => {
    assert.throws(
      () => demoOptions({ DEMO_AWAKE_MS: 'soon', DEMO_SECONDS: '-3', DEMO_INFLUX: 'maybe', DEMO_LESHAN: 'fake' }),
      (err: Error) => {
        assert.ok(err instanceof DemoUsageError);
        assert.match(err.message, /DEMO_AWAKE_MS must be a positive integer \(ms\) \(got "soon"\)/);
        assert.match(err.message, /DEMO_SECONDS must be a positive number of seconds/);
        assert.match(err.message, /DEMO_INFLUX must be auto, private, none or an http:\/\/ URL/);
        assert.match(err.message, /DEMO_LESHAN must be auto, real or double \(got "fake"\)/);
        return true;
      },
    );
    const d = demoOptions({});
    assert.deepEqual(
      [d.devices, d.awakeMs, d.asleepMs, d.latencyMs, d.seconds, d.operationAfterMs, d.port, d.influx, d.fromSources],
      [24, 4000, 8000, 150, undefined, 10_000, 8000, 'auto', false],
    );
    assert.equal(d.leshan, 'auto');
    assert.deepEqual([d.firmware, d.firmwareConcurrent], [true, 6]);
    assert.equal(demoOptions({ DEMO_FIRMWARE: '0' }).firmware, false);
    assert.throws(() => demoOptions({ DEMO_FIRMWARE: 'no' }), /DEMO_FIRMWARE must be 1 or 0 \(got "no"\)/);
    // the real Leshan: each device is a JVM, so 3 by default (at most 8), and its own cycle unless one was given
    const real = withRealDefaults(d);
    assert.deepEqual([real.devices, real.awakeMs, real.asleepMs], [3, 8000, 12_000]);
    const mine = withRealDefaults(demoOptions({ DEMO_DEVICES: '5', DEMO_ASLEEP_MS: '2000' }));
    assert.deepEqual([mine.devices, mine.awakeMs, mine.asleepMs], [5, 8000, 2000]);
    assert.equal(withRealDefaults(demoOptions({ DEMO_DEVICES: '20' })).devices, 8);
    assert.throws(() => demoOptions({ DEMO_LESHAN: 'real', DEMO_DEVICES: '20' }), /DEMO_DEVICES must be at most 8 with DEMO_LESHAN=real/);
    const demo = startDemo({ DEMO_DEVICES: 'many' });
    const { code } = await demo.exited;
    assert.equal(code, 2);
    assert.match(demo.err(), /^demo: DEMO_DEVICES must be an integer from 1 to 10000 \(got "many"\)$/m);
  });

  it('takes the preferred port (8000 by default) when free, another one when it is busy', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const other = await pickPort(busy);
      assert.equal(other.busy, true);
      assert.notEqual(other.port, busy);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    assert.deepEqual(await pickPort(busy), { port: busy, busy: false });
  });

  it('describes values in words and samples temperatures and other values of distinct devices', () => {
    const t = (ep: string, v: number) => ({
      ep,
      obj: '3303',
      inst: '0',
      res: '5700',
      object: 'Temperature',
      resource: 'Sensor Value',
      float: v,
    });
    const b = (ep: string, v: number) => ({ ep, obj: '3', inst: '0', res: '9', object: 'Device', resource: 'Battery Level', int: v });
    assert.equal(describeValue(t('demo-sensor-03', 21.7)), 'demo-sensor-03 temperature 21.7 °C');
    assert.equal(describeValue(t('demo-sensor-03', 21)), 'demo-sensor-03 temperature 21.0 °C');
    assert.equal(describeValue(b('demo-sensor-07', 88)), 'demo-sensor-07 battery 88 %');
    assert.equal(
      describeValue({ ep: 'x', obj: '5', inst: '0', res: '1', object: 'Firmware Update', resource: 'Package URI', string: 'u' }),
      'x Firmware Update Package URI "u"',
    );
    const rows = [t('a', 1), b('a', 90), t('b', 2), b('c', 80), t('c', 3), t('d', 4)];
    assert.deepEqual(sampleValues(rows, 3).map(describeValue), ['d temperature 4.0 °C', 'c battery 80 %', 'b temperature 2.0 °C']);
    assert.deepEqual(sampleValues([t('a', 1), t('a', 2)], 3).map(describeValue), ['a temperature 2.0 °C']);
  });
});

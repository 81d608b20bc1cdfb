/**
 * `npm run demo` with the real Leshan (DEMO_LESHAN=real): Eclipse Leshan's demo server and real LwM2M clients (Java,
 * tools/realLeshan.ts), the daemon, a private influxd. A short run, stopped with SIGINT once the example operation has
 * ended: every wait is for a line of the demo's output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureLeshan } from '../../tools/realLeshan.js';
import { shell, startDemo } from './startDemo.js';

describe('npm run demo with the real Leshan (DEMO_LESHAN=real)', () => {
  it(
    'says which Leshan runs; real clients register, their temperatures land in InfluxDB, the write queued for a sleeping client is CONFIRMED at its wake',
    { timeout: 150_000 },
    async () => {
      ensureLeshan(); // Maven and javac only the first time on a machine (scripts/test.sh has run it)
      // two clients; the example write is queued 4 s after they registered, when both sleep (the first sleep starts
      // within 3 s and lasts 12 s or more), so the daemon's first attempt times out (5 s) and it waits for the wake
      const demo = startDemo(
        {
          DEMO_LESHAN: 'real',
          DEMO_DEVICES: '2',
          DEMO_AWAKE_MS: '3000',
          DEMO_ASLEEP_MS: '16000',
          DEMO_OPERATION_AFTER_S: '4',
          DEMO_INFLUX: 'private',
        },
        140_000,
      );
      let leshanPid: number;
      try {
        leshanPid = Number((await demo.waitFor(/Leshan \(Eclipse Leshan's own demo server 2\.0\.0-M4, pid (\d+)\)/, 60_000))[1]);
        const listLine = (await demo.waitFor(/^ {12}(curl -sS \S+\/api\/endpoints) +#/m, 60_000))[1]!;
        const listed = JSON.parse(await shell(listLine)) as { items: { ep: string; registered: boolean }[] };
        assert.deepEqual(
          listed.items.map((i) => [i.ep, i.registered]),
          [
            ['demo-sensor-01', true],
            ['demo-sensor-02', true],
          ],
        );
        await demo.waitFor(/\d+ new values? .*in InfluxDB \(.*demo-sensor-0[12] temperature -?\d+\.\d °C/, 30_000);
        await demo.waitFor(/operation \d+ is (CONFIRMED|FAILED|EXPIRED|CANCELLED)/, 60_000);
        // no firmware campaign here, and the narration says why (the clients' object 5 cannot download)
        await demo.waitFor(/no firmware campaign with the real clients: their object 5 takes a package URI but never downloads it/, 10_000);
      } catch (err) {
        demo.child.kill('SIGKILL');
        throw err;
      }
      demo.child.kill('SIGINT');
      const { code, signal } = await demo.exited;
      const out = demo.out();
      assert.equal(signal, null, out);
      assert.equal(code, 0, `${out}\n${demo.err()}`);
      assert.doesNotMatch(out, /"level":/, "the daemon's JSON log is not shown as is");

      // the narration says which Leshan runs
      assert.match(out, /Leshan: the real one \(demo server 2\.0\.0-M4, clients on Leshan's client library 2\.0\.0-M18\)/);
      assert.match(out, /^Real: Eclipse Leshan's own demo server and LwM2M clients on Leshan's client library/m);
      assert.doesNotMatch(out, /test double/);
      assert.match(
        out,
        /2 real LwM2M clients registered with Leshan in queue mode: demo-sensor-01, demo-sensor-02 \(objects \/1\/0 \/3\/0 \/5\/0 \/3303\/0\)/,
      );

      // the example operation: queued as the curl line shows, for a sleeping client, CONFIRMED once it woke up
      const queuedFor =
        /now an operator queues a firmware URL write \(5\/0\/1\) for (demo-sensor-0[12]), which is asleep; the same as:\n {12}curl -sS -X POST http:\/\/127\.0\.0\.1:\d+\/api\/endpoints\/(demo-sensor-0[12])\/operations -H 'Content-Type: application\/json' -d '(\{.*\})'\n/.exec(
          out,
        );
      assert.ok(queuedFor, out);
      assert.equal(queuedFor[2], queuedFor[1]);
      const ep = queuedFor[1]!;
      const id = new RegExp(`operation (\\d+) is QUEUED: on disk`).exec(out)?.[1];
      assert.ok(id, out);
      const statuses = [...out.matchAll(new RegExp(`operation ${id} is ([A-Z]+)`, 'g'))].map((m) => m[1]);
      assert.equal(statuses[0], 'QUEUED');
      assert.equal(statuses.at(-1), 'CONFIRMED', out);
      assert.match(out, new RegExp(`operation ${id} is CONFIRMED: ${ep} answered CHANGED\\(204\\)`));
      // the client itself says it took the write
      assert.match(out, new RegExp(`${ep} received write /5/0/1 = "https://example\\.com/firmware/demo-sensor-2\\.1\\.bin" from Leshan`));
      const queuedAt = out.indexOf(`operation ${id} is QUEUED`);
      const wokeAt = out.indexOf(`${ep} woke up: registration update`, queuedAt);
      assert.ok(wokeAt > queuedAt && wokeAt < out.indexOf(`operation ${id} is CONFIRMED`), `sent at its wake-up:\n${out}`);

      assert.match(out, /stopping \(Ctrl-C\)/);
      assert.match(out, /lwm2m-backend stopped \(exit code 0\)/);
      assert.match(out, /Leshan stopped/);
      assert.match(
        out,
        /summary: 2 real clients, \d+ wake-ups, values: \d+ seen in InfluxDB, [1-9]\d* operations? delivered to devices, example operation CONFIRMED/,
      );
      assert.throws(() => process.kill(leshanPid, 0), { code: 'ESRCH' }, 'the Leshan server is gone');
    },
  );
});

/**
 * `npm run demo`: sleepy sensors -> Leshan -> the real lwm2m-backend daemon -> InfluxDB, narrated in plain lines.
 * Leshan and the sensors are Eclipse Leshan's demo server and real LwM2M clients when Java is here (DEMO_LESHAN=real),
 * else the Leshan test double and simulated sensors. See demo/README.md for what it shows and the DEMO_* variables.
 *
 * This file orders the start, the run and the stop; the parts are beside it: options.ts (DEMO_*), narration.ts
 * (what is printed), influxWatch.ts (InfluxDB), daemonRun.ts (the daemon), operationStory.ts (the example
 * operation), firmwareStory.ts (the firmware campaign after it), lifecycle.ts (the stop request and timers),
 * simulator.ts (the simulated devices, their object 5 in tools/firmwareDevices.ts), leshanChoice.ts and
 * realFleet.ts (the real Leshan and its clients).
 */
import { FirmwareDevices } from '../tools/firmwareDevices.js';
import { startLeshanDouble, type LeshanDouble } from '../tools/leshanDouble.js';
import { LESHAN_SERVER_VERSION, startRealLeshanServer, type RealLeshanServer } from '../tools/realLeshan.js';
import { chooseLeshan } from './leshanChoice.js';
import { REAL_OBJECT_LINKS, RealFleet } from './realFleet.js';
import { DaemonRun } from './daemonRun.js';
import { chooseInflux, InfluxWatch, releaseInflux, type InfluxChoice } from './influxWatch.js';
import { StopDuringStart, StopSignal, Timers, waitFor } from './lifecycle.js';
import { banner, fleetLine, Narrator, realFleetLine, summaryLine, tryLines } from './narration.js';
import { FirmwareStory, NEW_VERSION, OLD_VERSION, REAL_SKIP } from './firmwareStory.js';
import { OperationStory } from './operationStory.js';
import { demoOptions, DemoUsageError, pickPort, withRealDefaults, type DemoOptions } from './options.js';
import { FleetSimulator, type FleetEvent } from './simulator.js';

/** The whole demo: start everything, narrate, stop everything. `run()` resolves to the exit code. */
export class Demo {
  private readonly stop = new StopSignal();
  private readonly timers = new Timers();
  private readonly n: Narrator;
  private readonly daemon: DaemonRun;
  private exitCode = 0;

  private leshan: LeshanDouble | undefined;
  private realLeshan: RealLeshanServer | undefined;
  private influx: InfluxChoice | undefined;
  private watch: InfluxWatch | undefined;
  private fleet: FleetSimulator | RealFleet | undefined;
  private story: OperationStory | undefined;
  private firmwareDevices: FirmwareDevices | undefined;
  private firmwareStory: FirmwareStory | undefined;

  constructor(
    private readonly options: DemoOptions,
    write: (text: string) => void = (t) => void process.stdout.write(t),
  ) {
    this.n = new Narrator(write);
    this.daemon = new DaemonRun(this.n, this.stop);
  }

  /** Prints one line with the time. */
  say(text: string): void {
    this.n.say(text);
  }

  /** SIGINT/SIGTERM or the end of DEMO_SECONDS. A second signal gives up on stopping cleanly. */
  requestStop(reason: string): void {
    if (this.stop.request(reason)) return;
    if (reason === 'Ctrl-C' || reason === 'SIGTERM') {
      this.say('second signal: exiting at once');
      this.daemon.kill();
      const pid = this.influx?.kind === 'private' ? this.influx.influxd.pid : undefined;
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      process.exit(1);
    }
  }

  async run(): Promise<number> {
    try {
      await this.start();
      await this.stop.requested;
    } catch (err) {
      // a signal during the start can also make a child (influxd, the daemon) fail: that is a stop, not an error
      if (!(err instanceof StopDuringStart) && !this.stop.stopping) {
        this.say(`the demo could not start: ${err instanceof Error ? err.message : String(err)}`);
        this.exitCode = 1;
      }
    }
    await this.shutdown();
    return this.exitCode;
  }

  private async start(): Promise<void> {
    const mode = chooseLeshan(this.options.leshan, this.n);
    const real = mode === 'real';
    const o = real ? withRealDefaults(this.options) : this.options;
    if (real && o.devices < this.options.devices) this.say(`${o.devices} clients, not ${this.options.devices}: each one is a Java process`);
    this.n.write(banner(o.devices, mode));
    let leshanUrl: string;
    if (real) {
      this.realLeshan = await startRealLeshanServer();
      leshanUrl = this.realLeshan.url;
      this.say(
        `Leshan (Eclipse Leshan's own demo server ${LESHAN_SERVER_VERSION}, pid ${this.realLeshan.pid}) is at ${leshanUrl}, CoAP on ${this.realLeshan.coapUrl}`,
      );
    } else {
      // object 5 of the simulated devices answers reads as the double routes them (tools/firmwareDevices.ts)
      this.leshan = await startLeshanDouble({ heartbeatMs: 10_000, onRequest: (r) => this.firmwareDevices?.onRequest(r) });
      leshanUrl = this.leshan.url;
      this.say(`Leshan (a test double of its REST API and event stream) is at ${leshanUrl}`);
    }
    this.stop.check();

    this.influx = await chooseInflux(o.influx, this.n);
    const influxUrl = this.influx.kind === 'none' ? undefined : this.influx.url;
    this.stop.check();

    const { port, busy } = await pickPort(o.port);
    if (busy) this.say(`port ${o.port} is busy: the daemon listens on ${port} instead`);
    const api = `http://127.0.0.1:${port}`;
    const daemon = await this.daemon.start({
      port,
      fromSources: o.fromSources,
      leshanUrl,
      influxUrl,
      // the real Leshan: its own awake time (93 s), a short device timeout, the temperatures observed
      ...(real ? { awakeMs: 93_000, requestTimeoutS: 5, standingObservations: [{ path: '/3303/0/5700' }] } : { awakeMs: o.awakeMs }),
    });
    const streamOpen = this.daemon.streamOpen(20_000);
    streamOpen.catch(() => undefined);
    this.stop.check();
    this.daemon.onUnexpectedExit(() => {
      this.exitCode = 1;
      this.requestStop('lwm2m-backend exited');
    });
    this.timers.every(250, () => this.daemon.pumpLog());
    this.say(`lwm2m-backend is running (pid ${daemon.proc.pid}), its API at ${api}, its data in ${daemon.dataDir} (removed at exit)`);
    if (real) await streamOpen;
    else await waitFor(() => (this.leshan?.streamCount() ?? 0) > 0, 10_000, this.stop);
    this.stop.check();
    await this.daemon.reportHealth(api);
    this.stop.check();

    const startedAt = Date.now() - 1000;
    const onActivity = (line: string, event: FleetEvent) => this.activity(line, event);
    let eps: string[];
    if (this.realLeshan) {
      this.say(`starting ${o.devices} LwM2M clients (Java processes) ...`);
      const fleet = new RealFleet(this.realLeshan, { devices: o.devices, awakeMs: o.awakeMs, asleepMs: o.asleepMs, onActivity });
      this.fleet = fleet;
      this.story = new OperationStory(api, fleet, this.n, this.stop, true);
      await fleet.start();
      this.stop.check();
      eps = fleet.endpoints();
      this.say(realFleetLine(eps, REAL_OBJECT_LINKS, o));
      this.say(
        `(the stock Leshan counts a queue-mode device awake for 93 s after its last message: it learns that one sleeps when a request to it times out, in 5 s here)`,
      );
    } else {
      const firmware = new FirmwareDevices(this.leshan!, {
        version: OLD_VERSION,
        newVersion: () => NEW_VERSION,
        downloadMs: 'next wake',
        reboot: (ep): void => fleet.reboot(ep),
        onEvent: (e) => this.firmwareStory?.device(e),
      });
      this.firmwareDevices = firmware;
      const fleet: FleetSimulator = new FleetSimulator(this.leshan!, {
        devices: o.devices,
        awakeMs: o.awakeMs,
        asleepMs: o.asleepMs,
        latencyMs: o.latencyMs,
        onActivity,
        firmware,
      });
      if (o.firmware)
        this.firmwareStory = new FirmwareStory(api, this.n, this.stop, { match: 'demo-sensor-*', maxConcurrent: o.firmwareConcurrent });
      this.fleet = fleet;
      this.story = new OperationStory(api, fleet, this.n, this.stop);
      fleet.start();
      eps = fleet.endpoints();
      this.say(fleetLine(eps, o));
    }
    this.say(`try it yourself in another terminal while the demo runs:`);
    this.n.indented(tryLines(api, eps[1] ?? eps[0]!, influxUrl));

    if (influxUrl !== undefined) {
      this.watch = new InfluxWatch(influxUrl, startedAt, o.pollMs, this.n, this.stop, this.timers);
      this.watch.start();
    }
    const story = this.story;
    this.timers.later(o.operationAfterMs, () => void this.stories(story, o.firmware));
    if (o.seconds !== undefined) {
      const seconds = o.seconds;
      this.timers.later(seconds * 1000, () => this.requestStop(`DEMO_SECONDS=${seconds} elapsed`));
    }
  }

  /** The example operation, then (DEMO_FIRMWARE) the firmware campaign once the operation ended. */
  private async stories(story: OperationStory, firmware: boolean): Promise<void> {
    await story.queue();
    await story.settled();
    if (!firmware || this.stop.stopping) return;
    if (this.realLeshan) this.say(REAL_SKIP);
    else await this.firmwareStory?.start();
  }

  /** Wake-ups and operations, and the example operation's device falling asleep, get a line. */
  private activity(line: string, event: FleetEvent): void {
    switch (event.kind) {
      case 'wake':
      case 'operation':
        this.say(line);
        return;
      case 'sleep':
        if (this.story?.waitsOn(event.ep)) this.say(line);
        return;
      default:
        return; // registrations: one summary line
    }
  }

  private async shutdown(): Promise<void> {
    this.say(`stopping (${this.stop.reason ?? 'start failed'}) ...`);
    this.timers.clear();
    await this.story?.settled();
    await this.firmwareStory?.settled();
    this.firmwareDevices?.stop();
    const stats = this.fleet?.stats();
    await this.fleet?.stop();
    const exit = await this.daemon.shutdown();
    if (exit && exit.code !== 0 && this.stop.reason !== 'lwm2m-backend exited') this.exitCode = 1;
    await this.leshan?.close();
    if (this.realLeshan) {
      await this.realLeshan.stop();
      this.say('Leshan stopped');
    }
    await releaseInflux(this.influx, this.n);
    if (stats) {
      const stored = this.influx?.kind === 'none' ? 'not stored: no InfluxDB' : `${this.watch?.valuesSeen ?? 0} seen in InfluxDB`;
      this.say(summaryLine(stats, stored, this.story?.status, this.realLeshan !== undefined, this.firmwareStory?.outcome));
    }
    this.say('done');
  }
}

/** `npm run demo`: options from the environment, signals, exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options: DemoOptions;
  try {
    options = demoOptions(env);
  } catch (err) {
    if (!(err instanceof DemoUsageError)) throw err;
    process.stderr.write(`demo: ${err.message.split('\n').join('\ndemo: ')}\n`);
    return 2;
  }
  const demo = new Demo(options);
  const onInt = () => demo.requestStop('Ctrl-C');
  const onTerm = () => demo.requestStop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await demo.run();
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

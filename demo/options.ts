/** The demo's settings: the DEMO_* environment variables (demo/README.md), checked, and the daemon's port. */
import { createServer } from 'node:net';
import { freePort } from '../tools/ports.js';

/** The InfluxDB database the demo's daemon writes to. */
export const DATABASE = 'lwm2m_demo';

export interface DemoOptions {
  devices: number;
  awakeMs: number;
  asleepMs: number;
  latencyMs: number;
  /** Stop after this many seconds of simulation (undefined: until SIGINT/SIGTERM). */
  seconds: number | undefined;
  /** When the example operation is queued, after the devices registered. */
  operationAfterMs: number;
  /** The daemon's HTTP port when free (0: any free port). */
  port: number;
  /** `auto`, `private`, `none` or an InfluxDB 1.x URL. */
  influx: string;
  /** Run the daemon from src/ through tsx instead of dist/ (no build needed). */
  fromSources: boolean;
  /** How often InfluxDB is asked for new values. */
  pollMs: number;
  /** DEMO_FIRMWARE: after the example operation, a firmware campaign over the fleet (double only; `0`: none). */
  firmware: boolean;
  /** The campaign's maxConcurrent. */
  firmwareConcurrent: number;
  /** DEMO_LESHAN: `real` (Leshan's demo server and real clients, Java), `double` (the test double), `auto`. */
  leshan: 'auto' | 'real' | 'double';
  /** Which of DEMO_DEVICES, DEMO_AWAKE_MS, DEMO_ASLEEP_MS were given (the real Leshan has defaults of its own). */
  given: { devices: boolean; awakeMs: boolean; asleepMs: boolean };
}

/** With the real Leshan: each device is a JVM, so fewer of them, and longer cycles (a request times out in 5 s). */
export const REAL_DEFAULTS = { devices: 3, maxDevices: 8, awakeMs: 8000, asleepMs: 12_000 } as const;

export class DemoUsageError extends Error {}

/** The DEMO_* environment variables, checked; every problem at once in a DemoUsageError. */
export function demoOptions(env: NodeJS.ProcessEnv): DemoOptions {
  const problems: string[] = [];
  const num = (name: string, fallback: number, check: (n: number) => boolean, what: string): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!check(n)) {
      problems.push(`${name} must be ${what} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return n;
  };
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  const seconds = env.DEMO_SECONDS?.trim()
    ? num('DEMO_SECONDS', 0, (n) => Number.isFinite(n) && n > 0, 'a positive number of seconds')
    : undefined;
  const influx = env.DEMO_INFLUX?.trim() || 'auto';
  if (!['auto', 'private', 'none'].includes(influx) && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(influx)) {
    problems.push(`DEMO_INFLUX must be auto, private, none or an http:// URL (got ${JSON.stringify(influx)})`);
  }
  const options: DemoOptions = {
    devices: num('DEMO_DEVICES', 24, (n) => positiveInt(n) && n <= 10_000, 'an integer from 1 to 10000'),
    awakeMs: num('DEMO_AWAKE_MS', 4000, positiveInt, 'a positive integer (ms)'),
    asleepMs: num('DEMO_ASLEEP_MS', 8000, positiveInt, 'a positive integer (ms)'),
    latencyMs: num('DEMO_LATENCY_MS', 150, (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0 (ms)'),
    seconds,
    operationAfterMs: num('DEMO_OPERATION_AFTER_S', 10, (n) => Number.isFinite(n) && n >= 0, 'a number of seconds >= 0') * 1000,
    port: num('DEMO_PORT', 8000, (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number (0: any free port)'),
    influx,
    fromSources: env.DEMO_FROM_SOURCES === '1',
    pollMs: num('DEMO_POLL_MS', 3000, (n) => positiveInt(n) && n >= 100, 'an integer >= 100 (ms)'),
    firmware: true,
    firmwareConcurrent: num('DEMO_FIRMWARE_CONCURRENT', 6, (n) => positiveInt(n) && n <= 10_000, 'an integer from 1 to 10000'),
    leshan: 'auto',
    given: {
      devices: Boolean(env.DEMO_DEVICES?.trim()),
      awakeMs: Boolean(env.DEMO_AWAKE_MS?.trim()),
      asleepMs: Boolean(env.DEMO_ASLEEP_MS?.trim()),
    },
  };
  const firmware = env.DEMO_FIRMWARE?.trim() || '1';
  if (firmware === '0' || firmware === '1') options.firmware = firmware === '1';
  else problems.push(`DEMO_FIRMWARE must be 1 or 0 (got ${JSON.stringify(firmware)})`);
  const leshan = env.DEMO_LESHAN?.trim() || 'auto';
  if (leshan === 'auto' || leshan === 'real' || leshan === 'double') options.leshan = leshan;
  else problems.push(`DEMO_LESHAN must be auto, real or double (got ${JSON.stringify(leshan)})`);
  if (leshan === 'real' && options.devices > REAL_DEFAULTS.maxDevices) {
    problems.push(`DEMO_DEVICES must be at most ${REAL_DEFAULTS.maxDevices} with DEMO_LESHAN=real (each device is a Java process)`);
  }
  if (problems.length > 0) throw new DemoUsageError(problems.join('\n'));
  return options;
}

/** The options for a run with the real Leshan: its defaults where DEMO_DEVICES, DEMO_AWAKE_MS, DEMO_ASLEEP_MS were not given. */
export function withRealDefaults(o: DemoOptions): DemoOptions {
  return {
    ...o,
    devices: Math.min(o.given.devices ? o.devices : REAL_DEFAULTS.devices, REAL_DEFAULTS.maxDevices),
    awakeMs: o.given.awakeMs ? o.awakeMs : REAL_DEFAULTS.awakeMs,
    asleepMs: o.given.asleepMs ? o.asleepMs : REAL_DEFAULTS.asleepMs,
  };
}

/** `preferred` if nothing listens there on 127.0.0.1 (0: any), else a free port. */
export async function pickPort(preferred: number): Promise<{ port: number; busy: boolean }> {
  if (preferred === 0) return { port: await freePort(), busy: false };
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? { port: preferred, busy: false } : { port: await freePort(), busy: true };
}

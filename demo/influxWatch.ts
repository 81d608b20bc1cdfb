/** The demo's InfluxDB: which one (DEMO_INFLUX), and polling it for the values the daemon wrote. */
import { influxdBinary, startInfluxd, type Influxd } from '../tools/influxd.js';
import type { StopSignal, Timers } from './lifecycle.js';
import { describeValue, sampleValues, type Narrator, type Row } from './narration.js';
import { DATABASE } from './options.js';

export type InfluxChoice =
  { kind: 'existing'; url: string } | { kind: 'private'; url: string; influxd: Influxd } | { kind: 'none'; why: string };

const STANDARD = 'http://127.0.0.1:8086';

/** Whether an InfluxDB answers `GET /ping` at `url` within 1.5 s. */
export async function pings(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1500) });
    await res.arrayBuffer();
    return res.status === 204;
  } catch {
    return false;
  }
}

/** DEMO_INFLUX `wanted`: the URL given, the one on 127.0.0.1:8086, a private influxd, or none; said in a line. */
export async function chooseInflux(wanted: string, n: Narrator): Promise<InfluxChoice> {
  if (wanted === 'none') return noInflux('DEMO_INFLUX=none', n);
  if (wanted !== 'auto' && wanted !== 'private') {
    const url = wanted.replace(/\/+$/, '');
    n.say(
      `InfluxDB: using ${url} (DEMO_INFLUX), database "${DATABASE}"${(await pings(url)) ? '' : ' (it does not answer /ping right now)'}`,
    );
    return { kind: 'existing', url };
  }
  if (wanted === 'auto' && (await pings(STANDARD))) {
    n.say(
      `InfluxDB: using the one answering on ${STANDARD}, database "${DATABASE}" (kept after the demo; DROP DATABASE ${DATABASE} to remove it)`,
    );
    return { kind: 'existing', url: STANDARD };
  }
  let binary: string;
  try {
    binary = influxdBinary();
  } catch {
    return noInflux(wanted === 'auto' ? `nothing answers on ${STANDARD} and influxd is not installed` : 'influxd is not installed', n);
  }
  n.say(`InfluxDB: ${wanted === 'auto' ? `nothing answers on ${STANDARD}; ` : ''}starting a private ${binary} in a temp folder ...`);
  const influxd = await startInfluxd();
  n.say(`InfluxDB: the private influxd is at ${influxd.url}, database "${DATABASE}" (removed at exit)`);
  return { kind: 'private', url: influxd.url, influxd };
}

function noInflux(why: string, n: Narrator): InfluxChoice {
  n.say(`InfluxDB: none (${why}). Values are NOT stored: the daemon still runs and takes operations, its /health shows "influx" failing,`);
  n.indented([
    'and it keeps the values in its spool on disk. To see values land: apt install influxdb (or run influxd on 127.0.0.1:8086) and start again.',
  ]);
  return { kind: 'none', why };
}

/** Stops and removes the private influxd, if the demo started one. */
export async function releaseInflux(choice: InfluxChoice | undefined, n: Narrator): Promise<void> {
  if (choice?.kind !== 'private') return;
  await choice.influxd.destroy();
  n.say('private influxd stopped and removed');
}

/** What InfluxDB's /query answers, one statement's series flattened into rows. */
export function rowsOf(result: { series?: { columns: string[]; values: unknown[][] }[] } | undefined): Row[] {
  const rows: Row[] = [];
  for (const s of result?.series ?? []) {
    for (const v of s.values) {
      const row: Row = {};
      s.columns.forEach((c, i) => {
        if (v[i] !== null) row[c] = v[i];
      });
      rows.push(row);
    }
  }
  return rows;
}

/** Every `pollMs` until the stop: the rows new in InfluxDB since `since` (ms), in one line with a few samples. */
export class InfluxWatch {
  private readonly seenRows = new Map<string, number>();
  private polling = false;
  private seen = 0;

  constructor(
    private readonly url: string,
    private readonly since: number,
    private readonly pollMs: number,
    private readonly n: Narrator,
    private readonly stop: StopSignal,
    private readonly timers: Timers,
  ) {}

  /** Values seen in InfluxDB so far. */
  get valuesSeen(): number {
    return this.seen;
  }

  start(): void {
    this.timers.later(this.pollMs, () => {
      void this.pollOnce().finally(() => {
        if (!this.stop.stopping) this.start();
      });
    });
  }

  /** New rows since the last poll (rows of the last minute, minus those already seen). */
  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      const sinceNs = BigInt(Math.max(this.since, now - 60_000)) * 1_000_000n;
      const q = `SELECT * FROM "lwm2m" WHERE time > ${sinceNs}; SELECT * FROM "registration" WHERE time > ${sinceNs}`;
      const res = await fetch(`${this.url}/query?db=${DATABASE}&q=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) return void (await res.arrayBuffer());
      const body = (await res.json()) as { results?: { series?: { columns: string[]; values: unknown[][] }[] }[] };
      const fresh = (rows: Row[]) =>
        rows.filter((r) => {
          const key = [r.time, r.ep, r.obj, r.inst, r.res, r.ri, r.event].join('|');
          if (this.seenRows.has(key)) return false;
          this.seenRows.set(key, now + 120_000);
          return true;
        });
      const values = fresh(rowsOf(body.results?.[0]));
      const registrations = fresh(rowsOf(body.results?.[1]));
      for (const [k, until] of this.seenRows) if (until < now) this.seenRows.delete(k);
      this.seen += values.length;
      if (values.length === 0 && registrations.length === 0) return;
      const samples = sampleValues(values, 3).map(describeValue);
      const regs = registrations.length ? ` and ${registrations.length} registration event${registrations.length === 1 ? '' : 's'}` : '';
      const more = values.length > samples.length ? ', ...' : '';
      this.n.say(
        `${values.length} new value${values.length === 1 ? '' : 's'}${regs} in InfluxDB${samples.length ? ` (${samples.join(', ')}${more})` : ''}`,
      );
    } catch {
      // InfluxDB slow or stopping: try again at the next poll
    } finally {
      this.polling = false;
    }
  }
}

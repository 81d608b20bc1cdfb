/**
 * What test/grafana/dashboard.test.ts needs besides its tests: the Grafana dashboard's model
 * (config/grafana/lwm2m-backend.json), Grafana's interpolation of its InfluxQL queries, a ledger of the Leshan
 * posts the daemon accepted, the points as stored in InfluxDB, and every query of the dashboard run on influxd.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Influxd, InfluxSeries } from '../../tools/influxd.js';

// ---------------------------------------------------------------------------------------------------
// The dashboard model (the parts the test reads)

export interface DsRef {
  type?: string;
  uid?: string;
}
export interface Target {
  refId?: string;
  datasource?: DsRef;
  rawQuery?: boolean;
  query?: string;
  resultFormat?: string;
  hide?: boolean;
}
export interface Panel {
  id?: number;
  type: string;
  title?: string;
  collapsed?: boolean;
  datasource?: DsRef;
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  type: string;
  name: string;
  query?: unknown;
  datasource?: DsRef;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
}
export interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  __requires?: { type: string; id: string }[];
  schemaVersion?: number;
  uid?: string;
  title?: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations?: { list: { datasource?: DsRef; query?: string; enable?: boolean }[] };
}

/** config/grafana/lwm2m-backend.json, parsed. */
export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(new URL('../../config/grafana/lwm2m-backend.json', import.meta.url), 'utf8')) as Dashboard;
}

/** Rows and the panels in and outside them (a collapsed row holds its panels in `panels`). */
export function walk(panels: Panel[], into: { rows: Panel[]; panels: Panel[] } = { rows: [], panels: [] }) {
  for (const p of panels) {
    if (p.type === 'row') into.rows.push(p);
    else into.panels.push(p);
    if (p.panels) walk(p.panels, into);
  }
  return into;
}

/** The one panel of `panels` titled `title`. */
export function panelTitled(panels: Panel[], title: string): Panel {
  const found = panels.filter((p) => p.title === title);
  assert.equal(found.length, 1, `exactly one panel titled ${JSON.stringify(title)}`);
  return found[0]!;
}
export const queryOf = (t: Target): string => {
  assert.equal(typeof t.query, 'string', `target ${t.refId} has a query`);
  return t.query!;
};
/** How every panel, target and query variable names its data source: through the dashboard's `datasource` variable. */
export const INFLUX_DS = { type: 'influxdb', uid: '${datasource}' } as const;

/** The variables that run a query (the `datasource` variable only lists data sources). */
export const queryVariables = (dashboard: Dashboard): Variable[] => dashboard.templating.list.filter((v) => v.type === 'query');

export const variableQuery = (v: Variable): string => {
  const q = typeof v.query === 'string' ? v.query : (v.query as { query?: unknown } | undefined)?.query;
  assert.equal(typeof q, 'string', `variable ${v.name} has a query`);
  return q as string;
};

export const TITLES = {
  numeric: 'Numeric values',
  integer: 'Integer values',
  temperature: 'Temperature',
  currentTemperature: 'Current temperature',
  latest: 'Latest values',
  registrations: 'Registration events',
  latestRegistration: 'Latest registration event per endpoint',
  ingest: 'Ingest rate (points per interval)',
  firmware: 'Firmware updates by status',
} as const;

// ---------------------------------------------------------------------------------------------------
// Grafana's interpolation for the InfluxQL data source

/** Grafana's regex escaping of a variable value (multi-value / include-All variables, regex context). */
const regexEscape = (s: string): string => s.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');

export type Choice = readonly string[] | 'All';
export interface Selection {
  ep: Choice;
  object: Choice;
}

/**
 * A variable's text in a query, as Grafana's InfluxDB data source renders it: the custom all value as is
 * (Grafana does not format it); otherwise the values regex-escaped, several as `(a|b)`.
 */
export function formatVariable(v: Variable, choice: Choice, options: readonly string[]): string {
  if (choice === 'All' && v.allValue) return v.allValue;
  const values = choice === 'All' ? options : choice;
  assert.ok(values.length > 0, `variable ${v.name} has a value`);
  if (!v.multi && !v.includeAll) return values[0]!;
  const escaped = values.map(regexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

export interface Macros {
  /** What `$timeFilter` becomes: `time > now() - 1h` for a relative range, `time >= Xms and time <= Yms` for an absolute one. */
  timeFilter: string;
  /** `$__interval` */
  interval: string;
}

/** Replaces `$name`, `${name}`, `${name:format}` and `[[name]]`; an unknown name fails (the query would not run in Grafana). */
export function interpolate(query: string, vars: ReadonlyMap<string, string>, macros: Macros): string {
  return query.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (_m, a?: string, b?: string, c?: string) => {
    const name = (a ?? b ?? c)!;
    if (name === 'timeFilter') return macros.timeFilter;
    if (name === '__interval') return macros.interval;
    const value = vars.get(name);
    if (value === undefined)
      throw new Error(`query uses $${name}, which is neither a Grafana macro the test knows nor a dashboard variable: ${query}`);
    return value;
  });
}

// ---------------------------------------------------------------------------------------------------
// What is posted: a ledger of every value and registration event, in posting order

export type LwType = 'FLOAT' | 'INTEGER' | 'TIME' | 'STRING' | 'BOOLEAN';
export type Field = 'float' | 'int' | 'string' | 'bool';
export type Scalar = number | string | boolean;
export const FIELD: Record<LwType, Field> = { FLOAT: 'float', INTEGER: 'int', TIME: 'int', STRING: 'string', BOOLEAN: 'bool' };

export interface Sent {
  ep: string;
  obj: number;
  inst: number;
  res: number;
  ri?: number;
  type: LwType;
  value: Scalar;
}
export type EventName = 'registered' | 'deregistered' | 'updated';
export interface SentEvent {
  ep: string;
  event: EventName;
  time: number;
}
const EVENTS: EventName[] = ['registered', 'deregistered', 'updated']; // 10240 resources 0, 1, 2

/** The object and resource names the daemon's object model gives the objects used here. */
const NAMES: Record<number, { object: string; resources: Record<number, string> }> = {
  3: {
    object: 'Device',
    resources: {
      0: 'Manufacturer',
      1: 'Model Number',
      3: 'Firmware Version',
      6: 'Available Power Sources',
      7: 'Power Source Voltage',
      9: 'Battery Level',
      10: 'Memory Free',
      13: 'Current Time',
      17: 'Device Type',
    },
  },
  3303: { object: 'Temperature', resources: { 5700: 'Sensor Value', 5701: 'Sensor Units' } },
  3304: { object: 'Humidity', resources: { 5700: 'Sensor Value' } },
  3342: { object: 'On/Off switch', resources: { 5500: 'Digital Input State', 5501: 'Digital Input Counter' } },
};
export const objectName = (s: Pick<Sent, 'obj'>): string => NAMES[s.obj]?.object ?? '';
export const resourceName = (s: Pick<Sent, 'obj' | 'res'>): string => NAMES[s.obj]?.resources[s.res] ?? '';

/** One resource of a post: a single value, or the instances of a multi-instance resource. */
export type Entry =
  | { obj: number; inst: number; res: number; type: LwType; value: Scalar }
  | { obj: number; inst: number; res: number; type: LwType; values: Record<number, Scalar> };

/** How Leshan's JSON carries a value: FLOAT and INTEGER as decimal strings (as in the seed's examples). */
const wire = (type: LwType, v: Scalar): unknown => (type === 'FLOAT' || type === 'INTEGER' ? String(v) : v);
const resourceNode = (e: Entry): unknown =>
  'values' in e
    ? {
        kind: 'multiResource',
        id: e.res,
        type: e.type,
        values: Object.fromEntries(Object.entries(e.values).map(([ri, v]) => [ri, wire(e.type, v)])),
      }
    : { kind: 'singleResource', id: e.res, type: e.type, value: wire(e.type, e.value) };

const SINGLE = '/leshan_api/resource/single';
const COMPOSITE = '/leshan_api/resource/composite';

/** Posts to the daemon's Leshan routes, each expected to be accepted whole, and what they carried. */
export class Ledger {
  /** Every value posted, in posting order. */
  readonly sent: Sent[] = [];
  /** Every object 10240 event posted, in posting order. */
  readonly events: SentEvent[] = [];
  /** Values the daemon accepted (the sum of its `accepted` answers). */
  accepted = 0;

  constructor(private readonly post: (route: string, body: unknown) => Promise<{ status: number; body: any }>) {}

  private record(ep: string, entries: Entry[]): number {
    let n = 0;
    for (const e of entries) {
      if (e.obj === 10240) {
        assert.ok(!('values' in e));
        this.events.push({ ep, event: EVENTS[e.res]!, time: e.value as number });
      } else if ('values' in e) {
        for (const [ri, value] of Object.entries(e.values))
          this.sent.push({ ep, obj: e.obj, inst: e.inst, res: e.res, ri: Number(ri), type: e.type, value });
      } else {
        this.sent.push({ ep, obj: e.obj, inst: e.inst, res: e.res, type: e.type, value: e.value });
      }
      n += 'values' in e ? Object.keys(e.values).length : 1;
    }
    return n;
  }

  private async expectAccepted(route: string, body: unknown, n: number): Promise<void> {
    const r = await this.post(route, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body, { accepted: n });
    this.accepted += n;
  }

  /** A single post, as Leshan sends on a notification of one resource. */
  async postSingle(ep: string, e: Entry): Promise<void> {
    const body = { ep, obj_id: e.obj, ...(e.inst === 0 ? {} : { inst_id: e.inst }), val: resourceNode(e) };
    await this.expectAccepted(SINGLE, body, this.record(ep, [e]));
  }

  /** A composite post keyed by resource paths (`/3303/0/5700`). */
  async postPaths(ep: string, entries: Entry[]): Promise<void> {
    const val = Object.fromEntries(entries.map((e) => [`/${e.obj}/${e.inst}/${e.res}`, resourceNode(e)]));
    await this.expectAccepted(COMPOSITE, { ep, val }, this.record(ep, entries));
  }

  /** A composite post of a whole object (`/3` -> obj node), as a read of the object returns it. */
  async postObject(ep: string, obj: number, entries: Entry[]): Promise<void> {
    const instances = [...new Set(entries.map((e) => e.inst))].map((inst) => ({
      kind: 'instance',
      id: inst,
      resources: entries.filter((e) => e.inst === inst).map(resourceNode),
    }));
    await this.expectAccepted(COMPOSITE, { ep, val: { [`/${obj}`]: { kind: 'obj', id: obj, instances } } }, this.record(ep, entries));
  }

  register(ep: string, event: EventName, time: number): Promise<void> {
    return this.postSingle(ep, { obj: 10240, inst: 0, res: EVENTS.indexOf(event), type: 'TIME', value: time });
  }
}

/** Object 3 as a device sends it after registering. */
export const device = (manufacturer: string, model: string, firmware: string, battery: number, type: string): Entry[] => [
  { obj: 3, inst: 0, res: 0, type: 'STRING', value: manufacturer },
  { obj: 3, inst: 0, res: 1, type: 'STRING', value: model },
  { obj: 3, inst: 0, res: 3, type: 'STRING', value: firmware },
  { obj: 3, inst: 0, res: 6, type: 'INTEGER', values: { 0: 1, 1: 5 } },
  { obj: 3, inst: 0, res: 7, type: 'INTEGER', values: { 0: 3300, 1: 5000 } },
  { obj: 3, inst: 0, res: 9, type: 'INTEGER', value: battery },
  { obj: 3, inst: 0, res: 10, type: 'INTEGER', value: 15 },
  { obj: 3, inst: 0, res: 13, type: 'TIME', value: 1732550000123 },
  { obj: 3, inst: 0, res: 17, type: 'STRING', value: type },
];
export const temperature = (inst: number, value: number): Entry => ({ obj: 3303, inst, res: 5700, type: 'FLOAT', value });

// ---------------------------------------------------------------------------------------------------
// What InfluxDB holds, and the dashboard's queries run on it

/** Runs one InfluxQL statement; it must run without error. */
export type Query = (q: string) => Promise<InfluxSeries[]>;

/** A Query on `influxd`'s database `db`. */
export function queryOn(influxd: Pick<Influxd, 'query'>, db: string): Query {
  return async (q) => {
    const r = await influxd.query(q, db);
    assert.equal(r.error, undefined, `${q}\n=> ${r.error}`);
    assert.equal(r.results.length, 1, `${q}: one statement`);
    assert.equal(r.results[0]!.error, undefined, `${q}\n=> ${r.results[0]!.error}`);
    return r.results[0]!.series ?? [];
  };
}

/** Points in measurement `m` (every field counted). */
export async function countPoints(query: Query, m: string): Promise<number> {
  const s = await query(`SELECT count(*) FROM "${m}"`);
  return s.length === 0 ? 0 : s[0]!.values[0]!.slice(1).reduce<number>((a, b) => a + (typeof b === 'number' ? b : 0), 0);
}

const INTERVAL_MS = 10_000;
export const bucketOf = (t: number): number => Math.floor(t / INTERVAL_MS) * INTERVAL_MS;

export const keyOf = (t: {
  ep?: string;
  obj?: string | number;
  inst?: string | number;
  res?: string | number;
  ri?: string | number;
}): string => [t.ep, t.obj, t.inst, t.res, t.ri ?? ''].join('|');

/** A value point as stored. */
export type RawPoint = { t: number; field: Field; value: Scalar; type: string; object: string; resource: string };
/** A registration event as stored. */
export type RawEvent = { t: number; event: string; time: number };

/** Raw points as stored, per series key (`keyOf`), in time order; registration events per endpoint. */
export async function readStored(query: Query): Promise<{ points: Map<string, RawPoint[]>; events: Map<string, RawEvent[]> }> {
  const points = new Map<string, RawPoint[]>();
  const events = new Map<string, RawEvent[]>();
  for (const s of await query(`SELECT * FROM "lwm2m" WHERE time > now() - 1h GROUP BY "ep", "obj", "inst", "res", "ri"`)) {
    const col = (row: unknown[], name: string) => row[s.columns.indexOf(name)];
    points.set(
      keyOf(s.tags ?? {}),
      s.values.map((row) => {
        const field = (['float', 'int', 'string', 'bool'] as const).find((f) => col(row, f) !== null)!;
        return {
          t: row[0] as number,
          field,
          value: col(row, field) as Scalar,
          type: col(row, 'type') as string,
          object: (col(row, 'object') ?? '') as string,
          resource: (col(row, 'resource') ?? '') as string,
        };
      }),
    );
  }
  for (const s of await query(`SELECT "registration_time", "event" FROM "registration" WHERE time > now() - 1h GROUP BY "ep"`)) {
    events.set(
      s.tags!.ep!,
      s.values.map((row) => ({ t: row[0] as number, time: row[1] as number, event: row[2] as string })),
    );
  }
  return { points, events };
}

/** Every query of the dashboard run under one selection of its variables. */
export interface DashboardRun {
  /** The selection, the object variable's `options` known. */
  selection: Selection;
  /** What each variable offers. */
  options: Map<string, string[]>;
  /** Every query's answer, by panel title and refId (and `$name` for variables). */
  answers: Map<string, InfluxSeries[]>;
  /** Queries that could not be interpolated or that InfluxDB refused. */
  failures: string[];
}

/** The variables in order, each query seeing the ones before it as Grafana refreshes them, then every panel's targets. */
export async function runDashboard(
  dashboard: Dashboard,
  panels: Panel[],
  select: (objectOptions: string[]) => Selection,
  macros: Macros,
  query: Query,
): Promise<DashboardRun> {
  const vars = new Map<string, string>();
  const options = new Map<string, string[]>();
  const answers = new Map<string, InfluxSeries[]>();
  const failures: string[] = [];
  const tagValues = (series: InfluxSeries[]) => series.flatMap((s) => s.values.map((v) => v[1] as string));
  const run = async (name: string, text: () => string): Promise<InfluxSeries[]> => {
    try {
      const series = await query(text());
      answers.set(name, series);
      return series;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
      return [];
    }
  };
  for (const v of queryVariables(dashboard)) {
    const series = await run(`$${v.name}`, () => interpolate(variableQuery(v), vars, macros));
    options.set(v.name, tagValues(series));
    const choice = v.name === 'ep' ? select([]).ep : select(options.get('object') ?? []).object;
    try {
      vars.set(v.name, formatVariable(v, choice, options.get(v.name)!));
    } catch (err) {
      failures.push(`$${v.name} has no value: ${(err as Error).message}`);
    }
  }
  const selection = select(options.get('object')!);
  for (const p of panels) {
    for (const t of p.targets ?? []) await run(`${p.title}/${t.refId}`, () => interpolate(queryOf(t), vars, macros));
  }
  return { selection, options, answers, failures };
}

// ---------------------------------------------------------------------------------------------------
// Checks of the answers

export function assertClose(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: ${JSON.stringify(actual)} is a number`);
  assert.ok(Math.abs((actual as number) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} != ${expected}`);
}

/** A per-interval mean panel: one series per `group` key, each bucket the mean of the stored points in it. */
export function assertMeans(
  series: InfluxSeries[],
  stored: ReadonlyMap<string, RawPoint[]>,
  sent: readonly Sent[],
  wanted: (s: Sent) => boolean,
  group: (t: Record<string, string | undefined>) => string,
): void {
  const expected = new Map<string, Map<number, number[]>>();
  for (const [key, points] of stored) {
    const [ep, obj, inst, res, ri] = key.split('|');
    const first = sent.find((s) => keyOf(s) === key)!;
    if (!wanted(first)) continue;
    const g = group({ ep, obj, inst, res, ri });
    const buckets = expected.get(g) ?? new Map<number, number[]>();
    for (const p of points) buckets.set(bucketOf(p.t), [...(buckets.get(bucketOf(p.t)) ?? []), p.value as number]);
    expected.set(g, buckets);
  }
  const got = new Map(series.map((s) => [group(s.tags ?? {}), s]));
  assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), 'one series per endpoint and resource');
  for (const [g, buckets] of expected) {
    const s = got.get(g)!;
    const rows = [...buckets].sort(([a], [b]) => a - b);
    assert.deepEqual(
      s.values.map((v) => v[0]),
      rows.map(([t]) => t),
      `${g}: intervals`,
    );
    rows.forEach(([t, values], i) => assertClose(s.values[i]![1], values.reduce((a, b) => a + b, 0) / values.length, `${g} at ${t}`));
  }
}

/** Each series' object and resource tags are the names of its object and resource. */
export function assertNames(series: InfluxSeries[]): void {
  for (const s of series) {
    const tags = s.tags ?? {};
    const probe = { obj: Number(tags.obj), res: Number(tags.res) };
    assert.equal(tags.object, objectName(probe), `object name of ${keyOf(tags)}`);
    assert.equal(tags.resource, resourceName(probe), `resource name of ${keyOf(tags)}`);
  }
}

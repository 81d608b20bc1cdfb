/**
 * What the end-to-end tests (test/e2e) do with the daemon as an operator and with InfluxDB as a reader: queue an
 * operation and wait until it is settled, wait for rows, clean up what a file started, in reverse order.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { Operation } from '../../src/operations/operation.js';
import { startInfluxd, type Influxd } from '../../tools/influxd.js';
import { ensureLeshan, startRealLeshanServer, type RealLeshanServer } from '../../tools/realLeshan.js';
import { apiCall } from './api.js';
import { until } from './controllerHarness.js';

/** Registers an `after` hook that runs every clean-up pushed, last first, each failure ignored. */
export function cleanupsAfterAll(): (...cleanups: (() => Promise<unknown> | unknown)[]) => void {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
  });
  return (...more) => void cleanups.push(...more);
}

/**
 * A real influxd and Leshan's demo server, started side by side; each is stopped by `cleanup` (also when the other
 * failed to start). ensure-leshan runs first (Maven and javac only the first time on a machine).
 */
export async function startInfluxAndLeshan(
  cleanup: (...cleanups: (() => Promise<unknown> | unknown)[]) => void,
): Promise<{ influx: Influxd; leshan: RealLeshanServer }> {
  ensureLeshan();
  const [i, l] = await Promise.allSettled([startInfluxd(), startRealLeshanServer()]);
  if (i.status === 'fulfilled') cleanup(() => i.value.destroy());
  if (l.status === 'fulfilled') cleanup(() => l.value.stop());
  if (i.status === 'rejected') throw i.reason;
  if (l.status === 'rejected') throw l.reason;
  return { influx: i.value, leshan: l.value };
}

/** `curl -X POST {daemon}/api/endpoints/{ep}/operations -d body`: 201 expected. */
export async function queueOperation(daemonUrl: string, ep: string, body: unknown): Promise<Operation> {
  const r = await apiCall(daemonUrl, 'POST', `/api/endpoints/${encodeURIComponent(ep)}/operations`, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as Operation;
}

const FINAL = new Set(['CONFIRMED', 'FAILED', 'CANCELLED', 'EXPIRED']);

/** The operation once it is in a final status. */
export async function settledOperation(daemonUrl: string, id: string, timeoutMs = 20_000): Promise<Operation> {
  let op: Operation | undefined;
  await until(
    async () => FINAL.has((op = (await apiCall(daemonUrl, 'GET', `/api/operations/${id}`)).body as Operation).status),
    timeoutMs,
    `operation ${id} settled (last seen: ${JSON.stringify(op)})`,
  );
  return op!;
}

/** Rows of `q` once there are at least `atLeast` (the database exists only after the daemon's first write). */
export async function rowsUntil(
  influx: Influxd,
  db: string,
  q: string,
  atLeast = 1,
  timeoutMs = 20_000,
): Promise<Record<string, string>[]> {
  let found: Record<string, string>[] = [];
  await until(
    async () => (found = await influx.queryCsv(q, db).catch(() => [])).length >= atLeast,
    timeoutMs,
    `${atLeast} row(s) for ${q}`,
  );
  return found;
}

/** The `registration` points of one endpoint and event (registered, updated, deregistered, awake, sleeping). */
export const registrationQuery = (ep: string, event: string, fields = '*'): string =>
  `SELECT ${fields} FROM "registration" WHERE "ep" = '${ep}' AND "event" = '${event}'`;

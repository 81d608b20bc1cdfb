/**
 * Each step of a firmware update as an InfluxDB point (README: InfluxDB schema). Pure: no I/O.
 *
 *   firmware,ep=dev1,status=RUNNING,step=downloading id="12",attempts=1i,version="2.0" <ns>
 *
 * Tags ep, status, step; fields id and version (strings), attempts (int), and result (string) once ended.
 * One point per stored change of the update (a new step, a retry, the end).
 */
import { escape } from '@influxdata/influxdb-client';
import type { FirmwareUpdate } from './update.js';

export const FIRMWARE_MEASUREMENT = 'firmware';

export function firmwareLine(update: FirmwareUpdate, ns: string): string {
  const tags = `ep=${escape.tag(update.ep)},status=${update.status},step=${update.step}`;
  let fields = `attempts=${update.attempts}i,id=${escape.quoted(update.id)},version=${escape.quoted(update.version)}`;
  if (update.result !== undefined) fields += `,result=${escape.quoted(update.result)}`;
  return `${FIRMWARE_MEASUREMENT},${tags} ${fields} ${ns}`;
}

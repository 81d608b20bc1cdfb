/**
 * Test double of Eclipse Leshan's demo-server REST API (ClientServlet, EventServlet), faithful to
 * docs/leshan-rest-api.md (§8 lists what it must do). Implementation in ./leshanDouble/.
 *
 * ```ts
 * const leshan = await startLeshanDouble({ timeScale: 0.01 });      // L15 (flownexus' M15) by default
 * leshan.register({ endpoint: 'dev1', queueMode: true });
 * leshan.answer('dev1', '/5/0/1', { kind: 'deviceError', code: 404 }, { kind: 'timeout' });
 * // … the code under test calls `${leshan.url}/api/clients/dev1/5/0/1` …
 * leshan.delivered('dev1');                                          // what reached the device
 * await leshan.close();
 * ```
 *
 * Worth knowing when writing a client against it (all as Leshan does):
 * - a device error is HTTP 200 with success:false; not-registered is 400; sleeping is 400 (L15) or a delayed 200 (LM);
 * - write-attributes parses the *whole* query string, so `?timeout=` there is an unknown attribute (500 L15, 400 LM);
 * - L15 writes "no registered client…" in lower case on some routes and checks registration after routing;
 * - a queue-mode client's AWAKE event comes before its REGISTRATION/UPDATED event;
 * - composite answers are scripted under the comma-joined normalised paths ("/3/0/0,/3/0/1").
 *
 * Faults, only when a test asks (normal runs behave as Leshan does): `fault()` makes ClientServlet answers
 * drip, hang, huge or raw (malformed, deeply nested); `streamFault()` makes new event streams send a line that
 * never ends; `emitRaw()` writes arbitrary bytes to the open streams.
 */
export { startLeshanDouble } from './leshanDouble/server.js';
export { sseFrame } from './leshanDouble/events.js';
export { statusName } from './leshanDouble/response.js';
export type {
  DeviceAnswer,
  DoubleClient,
  DoubleOp,
  DoubleUpdate,
  FaultOptions,
  LeshanDouble,
  LeshanDoubleOptions,
  LeshanFault,
  RecordedRequest,
  StreamFault,
} from './leshanDouble/types.js';

// Section numbers (§) refer to docs/leshan-rest-api.md.
/**
 * ClientServlet (§1): routing on segment counts exactly as doGet/doPut/doPost/doDelete do, the registration check
 * where each version makes it, and the request validation that decides between 200, 400, 404, 500 and 504.
 * L15 follows leshan-2.0.0-M15 (what flownexus ships); LM follows master (registration checked before routing,
 * errors through safelySendError as text/plain).
 */
import type { DeviceRequest, Devices } from './device.js';
import { bare, jettyError, json, lmText, type HttpAnswer } from './http.js';
import {
  JavaException,
  handleException,
  invalidRequest,
  javaSplit,
  newPath,
  npe,
  parseExecuteArgs,
  parseLwPath,
  parseWriteAttributes,
  pathToString,
  runtime,
  type LwPath,
} from './java.js';
import type { ClientState, Registry } from './registry.js';
import { target, writeOrCreate } from './write.js';
import { writeComposite } from './writeComposite.js';
import type { DoubleOp, RecordedRequest } from './types.js';

export interface ServletContext {
  mode: 'L15' | 'LM';
  timeScale: number;
  registry: Registry;
  devices: Devices;
}

export interface ServletRequest {
  method: string;
  /** Decoded path after /api/clients; null for /api/clients itself (getPathInfo()). */
  pathInfo: string | null;
  /** Raw request path, for error pages. */
  uri: string;
  /** getQueryString(): raw, null without '?'. */
  rawQuery: string | null;
  params: URLSearchParams;
  contentType: string | undefined;
  /** getContentLength(): -1 when absent (chunked). */
  contentLength: number;
  body: string;
  record: RecordedRequest | undefined;
}

interface Route {
  op: DoubleOp;
  /** LwM2M target text as the servlet cuts it out of the path info (null when the cut fails). */
  target: string | null;
  /** L15 writes "no registered client" in lower case on these routes. */
  lower: boolean;
}

function substringBetween(str: string, open: string, close: string): string | null {
  const start = str.indexOf(open);
  if (start === -1) return null;
  const end = str.indexOf(close, start + open.length);
  return end === -1 ? null : str.substring(start + open.length, end);
}

const removeStart = (s: string, p: string): string => (s.startsWith(p) ? s.substring(p.length) : s);
const removeEnd = (s: string, p: string): string => (s.endsWith(p) ? s.substring(0, s.length - p.length) : s);

/** The route a method + path takes; null means 400 "Invalid path". */
function routeOf(method: string, seg: string[], pathInfo: string, ep: string): Route | null {
  const n = seg.length;
  const last = seg[n - 1];
  const rest = removeStart(pathInfo, `/${ep}`);
  const compositeObserve = n === 3 && seg[1] === 'composite' && seg[2] === 'observe';
  switch (method) {
    case 'GET':
      if (n === 1) return { op: 'registration', target: null, lower: true };
      if (n === 2 && seg[1] === 'composite') return { op: 'readComposite', target: null, lower: false };
      if (n >= 3 && last === 'discover') {
        return { op: 'discover', target: substringBetween(pathInfo, ep, '/discover'), lower: false };
      }
      return { op: 'read', target: rest, lower: false };
    case 'PUT':
      if (n === 2 && seg[1] === 'composite') return { op: 'writeComposite', target: null, lower: true };
      if (n < 3) return null;
      if (last === 'attributes') return { op: 'writeAttributes', target: removeEnd(rest, 'attributes'), lower: false };
      return { op: 'write', target: rest, lower: false };
    case 'POST':
      if (compositeObserve) return { op: 'observeComposite', target: null, lower: false };
      if (n >= 3 && last === 'observe') {
        return { op: 'observe', target: substringBetween(pathInfo, ep, '/observe'), lower: true };
      }
      if (n === 4) return { op: 'execute', target: rest, lower: true };
      if (n >= 2 && n <= 3) return { op: 'create', target: rest, lower: true };
      return null;
    default: // DELETE
      if (compositeObserve) return { op: 'cancelObserveComposite', target: null, lower: true };
      if (n >= 3 && last === 'observe') {
        return { op: 'cancelObserve', target: substringBetween(pathInfo, ep, '/observe'), lower: true };
      }
      return { op: 'delete', target: rest, lower: true };
  }
}

export function listRegistrations(registry: Registry): HttpAnswer {
  const parts: string[] = [];
  for (const s of registry.all()) parts.push(registry.registrationJson(s));
  return json(`[${parts.join(',')}]`);
}

export async function clientServlet(ctx: ServletContext, r: ServletRequest): Promise<HttpAnswer> {
  const lm = ctx.mode === 'LM';
  const invalidPath = (): HttpAnswer => (lm ? lmText(400, 'Invalid path') : jettyError(400, 'Invalid path', r.uri));
  if (r.pathInfo === null) {
    if (r.method === 'GET') {
      if (r.record) r.record.op = 'list';
      return listRegistrations(ctx.registry);
    }
    return jettyError(500, 'java.lang.NullPointerException', r.uri); // StringUtils.split(null)[0]
  }
  const seg = r.pathInfo.split('/').filter((s) => s !== '');
  const ep = seg[0];
  if (ep === undefined) {
    if (lm || r.method === 'GET') return invalidPath();
    return jettyError(500, 'java.lang.ArrayIndexOutOfBoundsException: Index 0 out of bounds for length 0', r.uri);
  }
  if (r.record) r.record.ep = ep;
  const state = ctx.registry.get(ep);
  if (!state && lm) return lmText(400, `No registered client with id '${ep}'`);
  const route = routeOf(r.method, seg, r.pathInfo, ep);
  if (r.record) r.record.op = route?.op;
  if (route === null) return invalidPath();
  if (!state) return bare(400, `${route.lower ? 'no' : 'No'} registered client with id '${ep}'`);
  try {
    return await run(ctx, r, state, route);
  } catch (e) {
    const h = handleException(e);
    return bare(h.status, h.text);
  }
}

function timeoutMs(ctx: ServletContext, params: URLSearchParams): number {
  const t = params.get('timeout');
  let ms = 5000;
  if (t !== null && /^[+-]?\d{1,18}$/.test(t)) ms = Number(t) * 1000; // Long.parseLong(x) * 1000
  return ms * ctx.timeScale;
}

function compositePaths(params: URLSearchParams): string[] {
  const raw = params.get('paths');
  if (raw === null) throw npe('Cannot invoke "String.split(String)" because "pathParam" is null');
  const paths = javaSplit(raw, ',').map((p) => newPath(p));
  if (paths.length === 0) throw invalidRequest('path list must not be empty');
  for (const a of paths) {
    for (const b of paths) {
      if (a !== b && b.length >= a.length && a.every((id, i) => b[i] === id)) {
        throw invalidRequest(`Invalid path list : ${pathToString(a)} and ${pathToString(b)} are overlapped paths`);
      }
    }
  }
  return paths.map(pathToString);
}

const regToString = (s: ClientState): string =>
  `Registration [endpoint=${s.endpoint}, id=${s.regId}, lwM2mVersion=${s.lwM2mVersion}, ` +
  `lifeTimeInSec=${s.lifetime}, bindingMode=[${s.bindingMode}]]`;

/** sendRequestAndWriteResponse: sleeping check (L15 400 / LM delayed 200), then wait for the device. */
export async function dispatch(ctx: ServletContext, s: ClientState, dreq: DeviceRequest): Promise<HttpAnswer> {
  if (s.queueMode && !s.awake) {
    if (ctx.mode === 'L15') throw invalidRequest('The destination client is sleeping, request cannot be sent.');
    const requestId = ctx.devices.enqueue(s, dreq);
    if (dreq.record) dreq.record.requestId = requestId;
    const path = dreq.lwPath ? { path: pathToString(dreq.lwPath) } : {};
    return json(JSON.stringify({ ep: s.endpoint, ...path, requestId, delayed: true }));
  }
  const res = await ctx.devices.send(s, dreq);
  if (res.kind === 'response') return json(JSON.stringify(res.response));
  if (res.kind === 'timeout') return bare(504, 'Request timeout');
  return bare(res.status, res.text);
}

async function run(ctx: ServletContext, r: ServletRequest, s: ClientState, route: Route): Promise<HttpAnswer> {
  const lm = ctx.mode === 'LM';
  const base = { timeoutMs: timeoutMs(ctx, r.params), record: r.record };
  const single = (op: DoubleOp, p: LwPath, extra: Partial<DeviceRequest> = {}): Promise<HttpAnswer> =>
    dispatch(ctx, s, { op, lwPath: p, key: pathToString(p), ...base, ...extra });
  const composite = (op: DoubleOp, paths: string[], extra: Partial<DeviceRequest> = {}): Promise<HttpAnswer> =>
    dispatch(ctx, s, { op, lwPath: null, compositePaths: paths, key: paths.join(','), ...base, ...extra });
  const t = route.target;
  switch (route.op) {
    case 'registration':
      return json(ctx.registry.registrationJson(s));
    case 'read':
      return single('read', target(r, t));
    case 'discover': {
      const p = target(r, t);
      if (p.length === 4) throw invalidRequest(`Discover request cannot target resource instance path: ${pathToString(p)}`);
      return single('discover', p);
    }
    case 'readComposite':
      return composite('readComposite', compositePaths(r.params));
    case 'observeComposite': {
      const paths = compositePaths(r.params);
      return composite('observeComposite', paths, { onSuccess: () => s.compositeObservations.add(paths.join(',')) });
    }
    case 'writeAttributes': {
      try {
        parseWriteAttributes(r.rawQuery);
      } catch (e) {
        if (!(e instanceof JavaException) || e.jkind !== 'InvalidAttribute') throw e;
        // M15 lets the checked exception reach handleException (500); master answers 400.
        if (lm) return bare(400, `Invalid attributes: ${e.message}`);
        throw runtime(e.message);
      }
      return single('writeAttributes', target(r, t));
    }
    case 'write':
    case 'create':
      return writeOrCreate(ctx, r, route.op, t ?? '', single);
    case 'writeComposite':
      return writeComposite(ctx.mode, r, (paths) => composite('writeComposite', paths));
    case 'execute': {
      const args = r.contentLength > 0 ? r.body : null; // req.getContentLength() > 0: chunked bodies are ignored
      if (r.record) r.record.args = args;
      const p = target(r, t);
      parseExecuteArgs(args);
      if (p.length !== 3) throw invalidRequest(`Invalid path ${pathToString(p)} : Only resource can be executed.`);
      return single('execute', p);
    }
    case 'observe': {
      const p = target(r, t);
      return single('observe', p, { onSuccess: () => s.observations.add(pathToString(p)) });
    }
    case 'cancelObserve': {
      if (t === null) throw npe('Cannot load from object array because the return value of "substringsBetween" is null');
      const active = r.params.has('active');
      const notFound = (): HttpAnswer => {
        const text = `no observation for path ${t} for  client '${lm ? regToString(s) : s.endpoint}'`;
        return lm ? lmText(404, text) : bare(404, text);
      };
      // Active: the path is parsed only while filtering the client's observations.
      if (active && s.observations.size === 0) return notFound();
      const p = pathToString(parseLwPath(t));
      if (r.record) r.record.lwm2mPath = p;
      if (!active) {
        s.observations.delete(p); // passive: the server forgets it, nothing goes to the device
        return bare(200, '');
      }
      if (!s.observations.has(p)) return notFound();
      return single('cancelObserve', parseLwPath(t), { onSuccess: () => s.observations.delete(p) });
    }
    case 'cancelObserveComposite': {
      const raw = r.params.get('paths');
      if (raw === null) throw npe('Cannot invoke "String.split(String)" because "pathParam" is null');
      const paths = javaSplit(raw, ',').map((p) => pathToString(parseLwPath(p)));
      const key = paths.join(',');
      if (!r.params.has('active')) {
        s.compositeObservations.delete(key);
        return bare(200, '');
      }
      if (!s.compositeObservations.has(key)) {
        const text = `no composite observation for paths [${javaSplit(raw, ',').join(', ')}] for  client '${lm ? regToString(s) : s.endpoint}'`;
        return lm ? lmText(404, text) : bare(404, text);
      }
      return composite('cancelObserveComposite', paths, { onSuccess: () => s.compositeObservations.delete(key) });
    }
    case 'delete': {
      const p = target(r, t);
      if (p.length === 0) throw invalidRequest('Delete request cannot target root path');
      if (p.length !== 2) throw invalidRequest(`Invalid path ${pathToString(p)} : Only object instances can be delete`);
      return single('delete', p);
    }
    default:
      throw new Error(`leshanDouble: unhandled route ${route.op}`);
  }
}

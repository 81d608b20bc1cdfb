/**
 * The HTTP side of the double: servlet mounts (/api/clients/*, /api/event/*, /api/objectspecs/*), request
 * recording, and "Leshan down" by closing the listening socket. Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Devices } from './device.js';
import { EventHub, acceptsEventStream } from './events.js';
import { Faults } from './faults.js';
import { bare, jettyError, json, type HttpAnswer } from './http.js';
import { Registry, availableInstances } from './registry.js';
import { clientServlet, type ServletContext } from './servlet.js';
import type { DeviceAnswer, DoubleClient, LeshanDouble, LeshanDoubleOptions, RecordedRequest } from './types.js';

const CLIENTS = '/api/clients';
const EVENTS = '/api/event';
const SPECS = '/api/objectspecs';
const SERVLET_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE']);

function bodyText(buf: Buffer, contentType: string | undefined): string {
  const charset = /charset=\s*"?([^;"\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  return charset === 'iso-8859-1' || charset === 'latin1' ? buf.toString('latin1') : buf.toString('utf8');
}

function endpointOf(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (typeof d.ep === 'string') return d.ep;
  if (typeof d.endpoint === 'string') return d.endpoint;
  const reg = d.registration as Record<string, unknown> | undefined;
  return typeof reg?.endpoint === 'string' ? reg.endpoint : undefined;
}

function write(res: ServerResponse, rec: RecordedRequest | undefined, a: HttpAnswer): void {
  if (rec) rec.status = a.status;
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string | number> = { ...a.headers, 'Content-Length': Buffer.byteLength(a.body) };
  if (a.contentType) headers['Content-Type'] = a.contentType;
  res.writeHead(a.status, headers);
  res.end(a.body);
}

export async function startLeshanDouble(opts: LeshanDoubleOptions = {}): Promise<LeshanDouble> {
  const mode = opts.mode ?? 'L15';
  const faults = new Faults();
  const hub = new EventHub(opts.heartbeatMs ?? 10_000, faults);
  const devices = new Devices(opts.latencyMs ?? 0, hub);
  const registry = new Registry(hub, opts.awakeMs ?? 93_000, {
    onAwake: (s) => {
      if (mode === 'LM') devices.flush(s);
    },
    onUnregistered: (s) => devices.unregistered(s),
  });
  devices.registry = registry;
  const ctx: ServletContext = { mode, timeScale: opts.timeScale ?? 1, registry, devices };
  const recordRequests = opts.recordRequests ?? true;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? null : url.slice(qi + 1);
    const params = new URLSearchParams(rawQuery ?? '');
    const contentType = req.headers['content-type'];
    const body = bodyText(raw, contentType);
    let rec: RecordedRequest | undefined;
    if (recordRequests) {
      const query: Record<string, string> = {};
      for (const [k, v] of params) if (!Object.prototype.hasOwnProperty.call(query, k)) query[k] = v;
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      rec = { method: req.method ?? 'GET', path: rawPath, url, query, headers, body, at: Date.now(), delivered: false };
      if (body !== '') {
        try {
          rec.json = JSON.parse(body);
        } catch {
          // not JSON: keep the text only
        }
      }
      requests.push(rec);
      opts.onRequest?.(rec);
    }
    // Jetty 11 refuses an encoded '/' in the path (UriCompliance ambiguous path separator).
    if (/%2f/i.test(rawPath)) return write(res, rec, jettyError(400, 'Ambiguous URI path separator', rawPath));
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return write(res, rec, jettyError(400, 'Bad URI', rawPath));
    }
    if (rec) rec.path = path;
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');

    if (path === CLIENTS || path.startsWith(`${CLIENTS}/`)) {
      const pathInfo = path === CLIENTS ? null : path.slice(CLIENTS.length);
      if (rec) rec.path = pathInfo ?? '';
      if (!SERVLET_METHODS.has(method)) {
        return write(res, rec, jettyError(405, `HTTP method ${method} is not supported by this URL`, rawPath));
      }
      const cl = req.headers['content-length'];
      const answer = await clientServlet(ctx, {
        method,
        pathInfo,
        uri: rawPath,
        rawQuery,
        params,
        contentType,
        body,
        record: rec,
        contentLength: cl === undefined ? -1 : Number(cl),
      });
      const fault = faults.take({ method, url, path: pathInfo ?? '' });
      if (fault) {
        if (rec)
          rec.status =
            fault.kind === 'raw' ? (fault.status ?? 200) : fault.kind === 'huge' ? 200 : fault.kind === 'drip' ? answer.status : undefined;
        if (!res.destroyed && !res.writableEnded) faults.write(res, answer, fault);
        return;
      }
      return write(res, rec, answer);
    }
    if (path === EVENTS || path.startsWith(`${EVENTS}/`)) {
      if (rec) rec.op = 'events';
      // EventSourceServlet: without an exact "Accept: text/event-stream" line, HttpServlet.doGet answers 405.
      if (method === 'GET' && acceptsEventStream(req)) {
        if (rec) rec.status = 200;
        hub.open(res, params.get('ep'));
        return;
      }
      return write(res, rec, jettyError(405, `HTTP method ${method} is not supported by this URL`, rawPath));
    }
    if (method === 'GET' && path.startsWith(`${SPECS}/`)) {
      if (rec) rec.op = 'objectspecs';
      const ep = path.slice(SPECS.length + 1).split('/')[0] ?? '';
      const s = registry.get(ep);
      if (!s) return write(res, rec, bare(400, `no registered client with id '${ep}'`));
      const models = Object.keys(availableInstances(s.links)).map((id) => ({
        id: Number(id),
        name: `Object ${id}`,
        instancetype: 'multiple',
        mandatory: false,
        urn: `urn:oma:lwm2m:ext:${id}`,
        version: '1.0',
        lwm2mversion: '1.0',
        description: '',
        description2: '',
        resourcedefs: [],
      }));
      return write(res, rec, json(JSON.stringify(models)));
    }
    return write(res, rec, jettyError(404, 'Not Found', rawPath));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) write(res, undefined, bare(500, `leshanDouble internal error: ${String(err)}`));
      });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let port = opts.port ?? 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      hub.closeAll();
      for (const s of sockets) s.destroy();
    });
  await listen();
  let down = false;
  let closed = false;

  const double: LeshanDouble = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    delivered: (ep) => requests.filter((r) => r.delivered && (ep === undefined || r.ep === ep)),
    clearRequests: () => void requests.splice(0),
    register: (c: DoubleClient) => void registry.register(c),
    update: (ep, changes) => registry.update(ep, changes),
    deregister: (ep) => registry.deregister(ep),
    isRegistered: (ep) => registry.get(ep) !== undefined,
    isAwake: (ep) => {
      const s = registry.mustGet(ep);
      return !s.queueMode || s.awake;
    },
    sleep: (ep) => registry.setSleeping(registry.mustGet(ep)),
    wake: (ep) => registry.setAwake(registry.mustGet(ep)),
    // a notification is no sign of presence: Leshan's presence service is built with
    // updateRegistrationOnNotification = false (docs/leshan-demo.md), so the device's state is left alone
    notify(ep, path, node) {
      registry.mustGet(ep);
      if (hub.listening(ep)) {
        hub.send('NOTIFICATION', JSON.stringify({ ep, kind: 'single', res: path, val: node }), ep);
      }
    },
    notifyComposite(ep, nodes) {
      registry.mustGet(ep);
      if (hub.listening(ep)) {
        const data = { ep, kind: 'composite', val: nodes, paths: Object.keys(nodes) };
        hub.send('NOTIFICATION', JSON.stringify(data), ep);
      }
    },
    emit(event, data, ep) {
      hub.send(event, typeof data === 'string' ? data : JSON.stringify(data), ep ?? endpointOf(data));
    },
    answer: (ep: string, path: string, ...answers: DeviceAnswer[]) => devices.script(ep, path, answers),
    setLatency: (ep, ms) => devices.setLatency(ep, ms),
    observations: (ep) => [...registry.mustGet(ep).observations],
    streamCount: () => hub.size,
    emitRaw: (text) => hub.sendRaw(text),
    streamFault: (f) => void (faults.stream = f),
    fault: (f, options) => faults.add(f, options),
    clearFaults: () => faults.clear(),
    faultBytesWritten: () => faults.hugeBytes,
    async setDown(d) {
      if (closed || d === down) return;
      down = d;
      if (d) await stop();
      else await listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      registry.dispose();
      devices.dispose();
      faults.dispose();
      if (!down) await stop();
    },
  };
  return double;
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for InfluxDB 2.x's HTTP API, checking requests the way InfluxDB 2.x documents them:
 * `Authorization: Token <token>`, `/api/v2/write?org=&bucket=&precision=`, `/api/v2/buckets?name=&org=`.
 * Everything it receives is recorded.
 */
export interface Influx2Double {
  url: string;
  token: string;
  org: string;
  buckets: Set<string>;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  writes: { bucket: string; precision: string; lines: string[] }[];
  /** Answers to give to the next write requests instead of accepting them. */
  failNext: { status: number; headers?: Record<string, string>; body?: string }[];
  /** Write bodies larger than this get 413, as InfluxDB's max-body-size does. */
  maxBodyBytes: number;
  close(): Promise<void>;
}

export async function startInflux2Double(opts: { token?: string; org?: string; buckets?: string[] } = {}): Promise<Influx2Double> {
  const token = opts.token ?? 'test-token';
  const org = opts.org ?? 'test-org';
  const buckets = new Set(opts.buckets ?? ['test-bucket']);
  const requests: Influx2Double['requests'] = [];
  const writes: Influx2Double['writes'] = [];
  const failNext: Influx2Double['failNext'] = [];
  const state = { maxBodyBytes: Infinity };
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/ping') {
        res.writeHead(204).end();
        return;
      }
      if (req.headers.authorization !== `Token ${token}`) {
        json(res, 401, { code: 'unauthorized', message: 'unauthorized access' });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/api/v2/buckets') {
        const name = url.searchParams.get('name');
        const o = url.searchParams.get('org');
        if (o !== null && o !== org) {
          json(res, 404, { code: 'not found', message: `organization name "${o}" not found` });
          return;
        }
        json(res, 200, { buckets: [...buckets].filter((b) => name === null || b === name).map((b) => ({ name: b })) });
        return;
      }
      if (req.method === 'POST' && url.pathname === '/api/v2/write') {
        const bucket = url.searchParams.get('bucket') ?? '';
        if (url.searchParams.get('org') !== org) {
          json(res, 404, { code: 'not found', message: 'organization not found' });
          return;
        }
        if (!buckets.has(bucket)) {
          json(res, 404, { code: 'not found', message: `bucket "${bucket}" not found` });
          return;
        }
        const failure = failNext.shift();
        if (failure) {
          res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
          res.end(failure.body ?? JSON.stringify({ code: 'internal error', message: 'scripted failure' }));
          return;
        }
        if (Buffer.byteLength(body) > state.maxBodyBytes) {
          json(res, 413, { code: 'request too large', message: 'unable to read data: request body too large' });
          return;
        }
        const bad = body.split('\n').find((l) => l !== '' && !/^\S+ \S+=\S+( \d+)?$/.test(l));
        if (bad !== undefined) {
          json(res, 400, { code: 'invalid', message: `unable to parse '${bad}': missing fields` });
          return;
        }
        writes.push({ bucket, precision: url.searchParams.get('precision') ?? 'ns', lines: body.split('\n').filter(Boolean) });
        res.writeHead(204).end();
        return;
      }
      json(res, 404, { code: 'not found', message: 'path not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    org,
    buckets,
    requests,
    writes,
    failNext,
    get maxBodyBytes() {
      return state.maxBodyBytes;
    },
    set maxBodyBytes(n: number) {
      state.maxBodyBytes = n;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

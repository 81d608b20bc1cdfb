import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { LeshanEventStream, type LeshanEventStreamOptions } from '../../src/leshan/eventStream.js';
import { parseRegistrations, type LeshanEvent } from '../../src/leshan/events.js';
import { sseFrame, startLeshanDouble, type LeshanDouble, type LeshanDoubleOptions } from '../../tools/leshanDouble.js';

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

interface Harness {
  stream: LeshanEventStream;
  events: LeshanEvent[];
  /** onConnected calls. */
  connected: number;
  /** onDisconnected reasons. */
  disconnected: string[];
  logs: LogLine[];
  warns(msg: RegExp): LogLine[];
}

const streams: LeshanEventStream[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  const stopping = Promise.all(streams.splice(0).map((s) => s.stop()));
  for (const c of closers.splice(0)) await c();
  await Promise.race([stopping, delay(3000, undefined, { ref: false })]); // a broken stop() must not hang the whole run
});

async function double(opts: LeshanDoubleOptions = {}): Promise<LeshanDouble> {
  const d = await startLeshanDouble(opts);
  closers.push(() => d.close());
  return d;
}

function follow(url: string, opts: Partial<LeshanEventStreamOptions> = {}): Harness {
  const logs: LogLine[] = [];
  const line = (level: LogLine['level']) => (obj: object, msg?: string) => {
    logs.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  };
  const h: Harness = {
    events: [],
    connected: 0,
    disconnected: [],
    logs,
    warns: (msg) => logs.filter((l) => l.level === 'warn' && msg.test(l.msg)),
    stream: undefined as unknown as LeshanEventStream,
  };
  h.stream = new LeshanEventStream({
    url,
    onEvent: (e) => void h.events.push(e),
    onConnected: () => void h.connected++,
    onDisconnected: (reason) => void h.disconnected.push(reason),
    log: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    backoff: { minMs: 20, maxMs: 200 },
    ...opts,
  });
  streams.push(h.stream);
  h.stream.start();
  return h;
}

async function waitFor(what: string, pred: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

interface RawServer {
  url: string;
  /** One entry per accepted connection: its socket, the request head, when it was accepted and closed. */
  conns: { socket: Socket; head: string; at: number; closedAt?: number }[];
}

/** A bare TCP server speaking just enough HTTP/1.1 to control every byte of the answer. */
async function rawServer(onRequest: (socket: Socket, index: number) => void | Promise<void>): Promise<RawServer> {
  const raw: RawServer = { url: '', conns: [] };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const conn: RawServer['conns'][number] = { socket, head: '', at: performance.now() };
    socket.on('close', () => {
      sockets.delete(socket);
      conn.closedAt = performance.now();
    });
    socket.on('error', () => undefined);
    let head = '';
    const onData = (b: Buffer): void => {
      head += b.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      conn.head = head;
      const index = raw.conns.push(conn) - 1;
      void onRequest(socket, index);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  raw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return raw;
}

/** Every test ends well within this; a hang (e.g. stop() never resolving) fails instead of blocking the run. */
const T = { timeout: 8000 };

const SSE_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=UTF-8\r\nConnection: close\r\n\r\n';

function summary(e: LeshanEvent): unknown {
  switch (e.type) {
    case 'registration':
    case 'deregistration':
      return [e.type, e.registration.endpoint, e.registration.queueMode];
    case 'updated':
      return [e.type, e.registration.endpoint, e.update.lifetime];
    case 'awake':
    case 'sleeping':
      return [e.type, e.ep];
    case 'notification':
    case 'send':
      return [e.type, e.ep, e.values];
    case 'requestResponse':
      return [e.type, e.ep, e.path, e.requestId, e.response];
  }
}

describe('LeshanEventStream', () => {
  it('delivers every Leshan event typed and in order, and sends Accept: text/event-stream', T, async () => {
    const d = await double({ heartbeatMs: 1000 });
    const h = follow(d.url);
    await waitFor('the stream', () => h.connected === 1 && d.streamCount() === 1);
    assert.equal(h.stream.connected, true);

    const temp = { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21.5' };
    const composite = { '/3303/0/5700': temp, '/3/0/9': { id: 9, kind: 'singleResource', type: 'INTEGER', value: '80' } };
    const sent = { '/3303/0/5700': { ...temp, value: '19.0' } };
    const response = { status: 'CHANGED(204)', valid: true, success: true, failure: false };

    d.register({ endpoint: 'dev1', queueMode: true }); // AWAKE, then REGISTRATION
    const list = await request(`${d.url}/api/clients`);
    const regs = parseRegistrations(await list.body.json());
    d.update('dev1', { lifetime: 300 });
    d.sleep('dev1');
    d.wake('dev1');
    d.notify('dev1', '/3303/0/5700', temp);
    d.notifyComposite('dev1', composite);
    d.emit('SEND', { ep: 'dev1', val: sent });
    d.emit('COAPLOG', {
      timestamp: 1,
      incoming: true,
      type: 'CON',
      code: 'POST',
      mId: 1,
      token: 'ab',
      options: '',
      payload: '',
      ep: 'dev1',
    });
    d.emit('REQUEST_RESPONSE', { ep: 'dev1', path: '/3/0/1', requestId: 'req-1', response, delayed: true });
    d.deregister('dev1');
    await waitFor('DEREGISTRATION', () => h.events.some((e) => e.type === 'deregistration'));

    assert.deepEqual(h.events.map(summary), [
      ['awake', 'dev1'],
      ['registration', 'dev1', true],
      ['updated', 'dev1', 300],
      ['sleeping', 'dev1'],
      ['awake', 'dev1'],
      ['notification', 'dev1', { '/3303/0/5700': temp }],
      ['notification', 'dev1', composite],
      ['send', 'dev1', sent],
      ['requestResponse', 'dev1', '/3/0/1', 'req-1', response],
      ['deregistration', 'dev1', true],
    ]);
    const reg = h.events[1];
    assert.ok(reg?.type === 'registration');
    assert.equal(reg.registration.registrationId, regs[0]?.registrationId);
    assert.equal(typeof reg.registration.registrationDate, 'number');
    assert.equal(reg.registration.sleeping, false);
    assert.equal(h.stream.events, 10);
    assert.ok((h.stream.lastEventAt ?? 0) > Date.now() - 5000);

    const opened = d.requests.filter((r) => r.op === 'events');
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.headers.accept, 'text/event-stream');
    assert.equal(opened[0]?.status, 200);
    assert.deepEqual([h.stream.connects, h.stream.reconnects, h.stream.parseErrors, h.disconnected.length], [1, 0, 0, 0]);
  });

  it('parses CRLF frames written one byte at a time (split CR/LF and split UTF-8)', T, async () => {
    const node = { id: 5701, kind: 'singleResource', type: 'STRING', value: '°C' };
    const bytes = Buffer.from(
      '\r\n' +
        sseFrame('COAPLOG', '{"ep":"raw","code":"POST"}') +
        sseFrame('NOTIFICATION', JSON.stringify({ ep: 'raw', kind: 'single', res: '/3303/0/5701', val: node })) +
        '\r\n' +
        sseFrame('SLEEPING', '{"ep":"raw"}'),
      'utf8',
    );
    const raw = await rawServer(async (socket) => {
      socket.write(SSE_HEAD);
      for (const b of bytes) {
        if (socket.destroyed) return;
        socket.write(Buffer.from([b]));
        await delay(1);
      }
    });
    const h = follow(raw.url);
    await waitFor('SLEEPING', () => h.events.some((e) => e.type === 'sleeping'), 4000);
    assert.deepEqual(h.events, [
      { type: 'notification', ep: 'raw', values: { '/3303/0/5701': node } },
      { type: 'sleeping', ep: 'raw' },
    ]);
    assert.match(raw.conns[0]?.head ?? '', /^GET \/api\/event HTTP\/1\.1\r\n/);
    assert.match(raw.conns[0]?.head ?? '', /\r\naccept: text\/event-stream\r\n/i);
  });

  it('reconnects after Leshan goes down and up, with exponential backoff reset by a live stream', T, async () => {
    const d = await double({ heartbeatMs: 40 });
    const h = follow(d.url, { backoff: { minMs: 40, maxMs: 160 }, random: () => 1, heartbeatTimeoutMs: 2000 });
    await waitFor('first connection', () => h.connected === 1);
    await delay(80); // heartbeats arrive: the connection delivered bytes
    const upGap = h.stream.disconnectedMs();
    await delay(60);
    assert.equal(h.stream.disconnectedMs(), upGap, 'the gap does not grow while connected');

    await d.setDown(true);
    await waitFor('loss', () => !h.stream.connected);
    const a = h.stream.disconnectedMs();
    await delay(600);
    const b = h.stream.disconnectedMs();
    assert.ok(b - a >= 550, `disconnectedMs grew by ${b - a} ms in 600 ms`);
    assert.equal(h.disconnected.length, 1);

    // Lost (retry after 40: the stream had delivered bytes), then failures at 80, 160, 160… (capped): not a hot loop.
    const lost = h.warns(/lost/);
    assert.equal(lost.length, 1);
    assert.equal(lost[0]?.obj.retryInMs, 40);
    const failures = h.logs.filter((l) => /cannot open/.test(l.msg));
    assert.ok(failures.length >= 2 && failures.length <= 8, `${failures.length} failed attempts in 600 ms`);
    assert.deepEqual(
      failures.slice(0, 3).map((l) => l.obj.retryInMs),
      [80, 160, 160],
    );
    assert.deepEqual(
      failures.map((l) => l.level),
      ['warn', ...failures.slice(1).map(() => 'debug')],
      'one warn per outage',
    );
    assert.match(String(failures[0]?.obj.reason), /ECONNREFUSED/);

    await d.setDown(false);
    await waitFor('reconnection', () => h.connected === 2, 2000);
    assert.deepEqual([h.stream.connects, h.stream.reconnects, h.stream.connected], [2, 1, true]);
    const c = h.stream.disconnectedMs();
    assert.ok(c >= b, 'the gap is kept');
    d.register({ endpoint: 'after', queueMode: false });
    await waitFor('REGISTRATION after reconnect', () => h.events.some((e) => e.type === 'registration'));

    // The reconnected stream delivered heartbeats, so the next loss starts the backoff from minMs again.
    await delay(80);
    await d.setDown(true);
    await waitFor('second loss', () => h.warns(/lost/).length === 2);
    assert.equal(h.warns(/lost/)[1]?.obj.retryInMs, 40);
    await d.setDown(false);
    await waitFor('third connection', () => h.connected === 3, 2000);
    assert.equal(h.stream.reconnects, 2);
  });

  it('takes a silent stream (no heartbeat) for dead within heartbeatTimeoutMs and reconnects; no reset without bytes', T, async () => {
    const raw = await rawServer((socket) => void socket.write(SSE_HEAD)); // headers, then nothing, ever
    const h = follow(raw.url, { heartbeatTimeoutMs: 300, backoff: { minMs: 20, maxMs: 1000 }, random: () => 1 });
    await waitFor('third connection', () => raw.conns.length === 3, 3000);
    const first = raw.conns[0];
    assert.ok(first?.closedAt !== undefined, 'the client closed the silent connection');
    const lived = first.closedAt - first.at;
    assert.ok(lived >= 250 && lived < 700, `silent connection closed after ${lived} ms`);
    assert.match(h.disconnected[0] ?? '', /no complete line .* 300 ms/);
    assert.ok(h.connected >= 2 && h.stream.reconnects >= 1);
    // No byte ever arrived, so the backoff keeps growing: 20, then 40.
    assert.deepEqual(
      h
        .warns(/lost/)
        .slice(0, 2)
        .map((l) => l.obj.retryInMs),
      [20, 40],
    );
  });

  it('keeps a stream that only carries heartbeats', T, async () => {
    const d = await double({ heartbeatMs: 50 });
    const h = follow(d.url, { heartbeatTimeoutMs: 300 });
    await waitFor('connection', () => h.connected === 1);
    await delay(1000);
    assert.deepEqual([h.stream.connects, h.stream.reconnects, h.stream.connected, h.disconnected.length], [1, 0, true, 0]);
    assert.equal(d.streamCount(), 1);
    assert.equal(d.requests.filter((r) => r.op === 'events').length, 1);
  });

  it('retries a non-200 answer and a wrong content type, warning once per outage', T, async () => {
    const raw = await rawServer((socket, i) => {
      if (i === 0) socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      else if (i === 1) socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html></html>');
      else socket.write(SSE_HEAD + sseFrame('AWAKE', '{"ep":"x"}'));
    });
    const h = follow(raw.url);
    await waitFor('AWAKE', () => h.events.length === 1);
    assert.deepEqual(h.events, [{ type: 'awake', ep: 'x' }]);
    assert.deepEqual([h.connected, h.stream.connects, h.stream.reconnects, raw.conns.length], [1, 1, 0, 3]);
    const failures = h.logs.filter((l) => /cannot open/.test(l.msg));
    assert.deepEqual(
      failures.map((l) => [l.level, l.obj.reason]),
      [
        ['warn', 'HTTP 503'],
        ['debug', 'content type "text/html" is not text/event-stream'],
      ],
    );
  });

  it('logs a failing onEvent (throw or rejection) and a malformed event, and goes on', T, async () => {
    const d = await double({ heartbeatMs: 1000 });
    const h = follow(d.url, {
      onEvent(e) {
        h.events.push(e);
        if (e.type === 'awake') throw new Error('boom');
        if (e.type === 'sleeping') return Promise.reject(new Error('async boom'));
        return undefined;
      },
    });
    await waitFor('connection', () => h.connected === 1 && d.streamCount() === 1);
    d.register({ endpoint: 'q', queueMode: true }); // AWAKE (throws), REGISTRATION
    d.sleep('q'); // SLEEPING (rejects)
    d.emit('NOTIFICATION', 'not json', 'q');
    d.emit('AWAKE', { nope: true });
    d.register({ endpoint: 'after', queueMode: false });
    await waitFor('last REGISTRATION', () => h.events.some((e) => e.type === 'registration' && e.registration.endpoint === 'after'));
    assert.deepEqual(
      h.events.map((e) => e.type),
      ['awake', 'registration', 'sleeping', 'registration'],
    );
    await waitFor('rejection counted', () => h.stream.callbackErrors === 2);
    assert.equal(h.stream.parseErrors, 2);
    assert.deepEqual([h.stream.connects, h.stream.connected], [1, true]);
    assert.deepEqual(
      h.warns(/callback failed/).map((l) => l.obj.err),
      ['boom', 'async boom'],
    );
    assert.deepEqual(
      h.warns(/malformed/).map((l) => l.obj.event),
      ['NOTIFICATION', 'AWAKE'],
    );
  });

  it('stop() closes the stream and stops reconnecting; the stream can be started again', T, async () => {
    const d = await double({ heartbeatMs: 1000 });
    const h = follow(d.url);
    await waitFor('connection', () => h.connected === 1 && d.streamCount() === 1);
    await h.stream.stop();
    assert.equal(h.stream.connected, false);
    assert.deepEqual(h.disconnected, ['stopped']);
    await waitFor('server side closed', () => d.streamCount() === 0);
    const frozen = h.stream.disconnectedMs();
    await delay(200);
    assert.equal(d.requests.filter((r) => r.op === 'events').length, 1, 'no reconnection after stop');
    assert.equal(h.stream.disconnectedMs(), frozen, 'no gap is counted while stopped');
    assert.equal(h.warns(/./).length, 0, 'a stop is not a failure');

    h.stream.start();
    await waitFor('second start', () => h.connected === 2 && d.streamCount() === 1);
    assert.equal(h.stream.reconnects, 1);
  });

  it('stop() during a long backoff resolves at once', T, async () => {
    const d = await double();
    await d.setDown(true);
    const h = follow(d.url, { backoff: { minMs: 5000, maxMs: 10_000 }, random: () => 0.99 });
    await waitFor('first failure', () => h.warns(/cannot open/).length === 1);
    const t0 = performance.now();
    await h.stream.stop();
    assert.ok(performance.now() - t0 < 200, 'stop waited for the backoff');
    assert.deepEqual([h.connected, h.stream.connects], [0, 0]);
    assert.ok(h.stream.disconnectedMs() > 0);
  });

  it('a line that never ends is cut at maxLineBytes and reconnected with growing backoff (bytes alone never reset it)', T, async () => {
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const raw = await rawServer(async (socket) => {
      socket.write(SSE_HEAD);
      while (!socket.destroyed) {
        socket.write(chunk);
        await delay(1);
      }
    });
    const h = follow(raw.url, { maxLineBytes: 64 * 1024, backoff: { minMs: 20, maxMs: 1000 }, random: () => 1 });
    await waitFor('five losses', () => h.warns(/lost/).length >= 5, 6000);
    await h.stream.stop();
    assert.deepEqual(
      h
        .warns(/lost/)
        .slice(0, 5)
        .map((l) => l.obj.retryInMs),
      [20, 40, 80, 160, 320],
    );
    for (const reason of h.disconnected.slice(0, 5)) assert.equal(reason, 'more than 65536 bytes without a line end');
    assert.equal(h.events.length, 0);
  });

  it('a never-ending line dripped slowly is silence: dead after heartbeatTimeoutMs, backoff not reset', T, async () => {
    const raw = await rawServer(async (socket) => {
      socket.write(SSE_HEAD);
      while (!socket.destroyed) {
        socket.write('x');
        await delay(20);
      }
    });
    const h = follow(raw.url, { heartbeatTimeoutMs: 300, backoff: { minMs: 20, maxMs: 1000 }, random: () => 1 });
    await waitFor('two losses', () => h.warns(/lost/).length >= 2, 3000);
    assert.match(h.disconnected[0] ?? '', /no complete line \(not even a heartbeat\) for 300 ms/);
    const lived = (raw.conns[0]?.closedAt ?? Infinity) - (raw.conns[0]?.at ?? 0);
    assert.ok(lived >= 250 && lived < 700, `dripping connection closed after ${lived} ms`);
    assert.deepEqual(
      h
        .warns(/lost/)
        .slice(0, 2)
        .map((l) => l.obj.retryInMs),
      [20, 40],
    );
  });

  it('one event data past maxLineBytes (many short lines) breaks the stream too', T, async () => {
    const raw = await rawServer(async (socket, i) => {
      socket.write(SSE_HEAD);
      if (i > 0) return void socket.write(sseFrame('AWAKE', '{"ep":"after"}'));
      socket.write('event: NOTIFICATION\r\n');
      while (!socket.destroyed) {
        socket.write(`data: ${'y'.repeat(1000)}\r\n`);
        await delay(0);
      }
    });
    const h = follow(raw.url, { maxLineBytes: 32 * 1024 });
    await waitFor('AWAKE on the next connection', () => h.events.length === 1, 4000);
    assert.equal(h.disconnected[0], 'an SSE event exceeded 32768 characters');
    assert.deepEqual(h.events, [{ type: 'awake', ep: 'after' }]);
  });

  it('headers that never come: the connection deadline, not the silence limit', T, async () => {
    const raw = await rawServer(() => undefined); // takes the request, never answers
    const h = follow(raw.url, { connectTimeoutMs: 200, heartbeatTimeoutMs: 5000 });
    await waitFor('a failed attempt', () => h.warns(/cannot open/).length === 1, 2000);
    assert.equal(h.warns(/cannot open/)[0]?.obj.reason, 'no response headers within 200 ms');
    await waitFor('the socket closed', () => raw.conns[0]?.closedAt !== undefined);
    const lived = (raw.conns[0]?.closedAt ?? Infinity) - (raw.conns[0]?.at ?? 0);
    assert.ok(lived >= 150 && lived < 600, `closed after ${lived} ms`);
  });

  it('events with an endpoint name that cannot be stored are refused, counted and logged cut short; the stream goes on', T, async () => {
    const d = await double({ heartbeatMs: 1000 });
    const invalid: string[] = [];
    const h = follow(d.url, { onInvalid: (why) => void invalid.push(why) });
    await waitFor('connection', () => h.connected === 1 && d.streamCount() === 1);
    const long = 'L'.repeat(300_000);
    d.emit('AWAKE', { ep: 'dev\n1' });
    d.emit('REGISTRATION', { endpoint: 'bell\u0007', registrationId: 'r1', queuemode: false });
    d.emit('NOTIFICATION', { ep: long, kind: 'single', res: '/3/0/1', val: { id: 1, kind: 'singleResource', type: 'STRING', value: 'v' } });
    d.emit('SLEEPING', '{"ep":"fine"');
    d.emit('AWAKE', { ep: 'fine' });
    await waitFor('the good event', () => h.events.length === 1);
    assert.deepEqual(h.events, [{ type: 'awake', ep: 'fine' }]);
    assert.deepEqual([h.stream.parseErrors, h.stream.invalidEndpoints], [4, 3]);
    assert.deepEqual(invalid, ['endpoint', 'endpoint', 'endpoint', 'malformed']);
    const named = h.warns(/invalid endpoint name/);
    assert.deepEqual(
      named.map((l) => l.obj.event),
      ['AWAKE', 'REGISTRATION', 'NOTIFICATION'],
    );
    assert.deepEqual(
      named.map((l) => l.obj.ep),
      ['"dev\\n1"', '"bell\\u0007"', `"${'L'.repeat(64)}"… (300000 characters)`],
    );
    for (const l of named) assert.ok(JSON.stringify(l.obj).length < 400, 'the log line stays short');
    assert.deepEqual([h.stream.connects, h.stream.connected], [1, true]);
  });
});

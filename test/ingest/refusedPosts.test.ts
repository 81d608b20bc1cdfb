import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { BlockList, type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createLeshanHandler } from '../../src/ingest/leshanHandler.js';

describe('refused Leshan posts', () => {
  it('are logged at info with the route, status, code and reason, once per kind every 10 s, the rest counted', async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    const log = {
      debug() {},
      info: (obj: object, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }),
      warn() {},
      error() {},
    };
    const allowFrom = new BlockList();
    allowFrom.addSubnet('127.0.0.0', 8);
    const ingest = { accept: () => 1, deviceTimesUnused: { future: 0, before_2000: 0 } } as never;
    const handler = createLeshanHandler({ ingest, allowFrom, bodyLimitBytes: 1024, registry: new Registry(), log });
    const server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/leshan_api/resource/single`;
    const post = (body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status);
    try {
      for (let i = 0; i < 5; i++) assert.equal(await post('{"ep":'), 400);
      assert.equal(await post('{"ep":"a","obj_id":3,"val":{"kind":"nope"}}'), 400);
      const refused = lines.filter((l) => l.msg === 'refused a Leshan post');
      assert.equal(refused.length, 2, JSON.stringify(lines));
      assert.deepEqual(
        refused.map((l) => [l.obj.route, l.obj.status, l.obj.code]),
        [
          ['single', 400, 'malformed_json'],
          ['single', 400, 'invalid_post'],
        ],
      );
      assert.match(String(refused[0]!.obj.reason), /not valid JSON/);
      assert.equal(refused[0]!.obj.from, '127.0.0.1');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

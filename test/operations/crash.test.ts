import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import type { Operation } from '../../src/operations/operation.js';

const post = (url: string, pathname: string, body: unknown) =>
  fetch(url + pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('kill -9 while operations are created and sent (real daemon process)', () => {
  let leshan: LeshanDouble;
  let dataDir: string;
  const daemons: DaemonProcess[] = [];
  before(async () => {
    leshan = await startLeshanDouble({ latencyMs: 40 });
    dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-crash-'));
  });
  after(async () => {
    for (const d of daemons) await d.cleanup();
    await leshan.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged operation and leaves none in SENDING', async () => {
    const config = { leshan: { url: leshan.url }, influx: { url: 'http://127.0.0.1:9' } };
    const first = await startDaemon({ dataDir, config });
    daemons.push(first);
    const devices = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
    for (const ep of devices) {
      leshan.register({ endpoint: ep, queueMode: true });
      const r = await post(first.url, '/leshan_api/resource/single', {
        ep,
        obj_id: 10240,
        val: { kind: 'singleResource', id: 0, type: 'TIME', value: 1 },
      });
      assert.equal(r.status, 201);
    }
    const acknowledged = new Set<string>();
    let stop = false;
    const creator = async (ep: string) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await post(first.url, `/api/endpoints/${ep}/operations`, { kind: 'write', path: '/3/0/14', value: `+${i}` });
          if (r.status === 201) acknowledged.add(((await r.json()) as Operation).id);
        } catch {
          return; // the daemon is gone
        }
      }
    };
    const creators = devices.flatMap((ep) => [creator(ep), creator(ep)]);
    await new Promise((r) => setTimeout(r, 1500));
    const sentBefore = leshan.requests.filter((r) => r.op === 'write').length;
    first.proc.kill('SIGKILL');
    await first.exited;
    stop = true;
    await Promise.all(creators);
    assert.ok(acknowledged.size > 20, `only ${acknowledged.size} operations were created`);
    assert.ok(sentBefore > 0, 'some operations were being delivered when the daemon died');

    const second = await startDaemon({ dataDir, config });
    daemons.push(second);
    const all: Operation[] = [];
    for (let cursor: string | undefined; ;) {
      const page = (await (await fetch(`${second.url}/api/operations?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
        items: Operation[];
        next?: string;
      };
      all.push(...page.items);
      if (!page.next) break;
      cursor = page.next;
    }
    const ids = new Set(all.map((o) => o.id));
    const missing = [...acknowledged].filter((id) => !ids.has(id));
    assert.deepEqual(missing, [], 'every acknowledged operation survived');
    assert.deepEqual(
      all.filter((o) => o.status === 'SENDING').map((o) => o.id),
      [],
      'none is stuck in SENDING',
    );
    const confirmed = all.filter((o) => o.status === 'CONFIRMED').length;
    assert.ok(confirmed > 0, 'operations confirmed before the crash are still confirmed');
    for (const o of all) if (o.status === 'QUEUED') assert.ok(o.attempts <= 1);
  });
});

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FirmwareDevices, type FirmwareDeviceEvent } from '../../tools/firmwareDevices.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(10);
  }
}

describe('FirmwareDevices (tools/firmwareDevices.ts): object 5 of devices behind the Leshan double', () => {
  let leshan: LeshanDouble;
  let fw: FirmwareDevices;
  const late: { fw?: FirmwareDevices } = {};
  const events: FirmwareDeviceEvent[] = [];
  const told: [string, unknown][] = [];
  const ep = 'fw-01';
  const register = () => leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });

  beforeEach(async () => {
    events.length = 0;
    told.length = 0;
    leshan = await startLeshanDouble({ onRequest: (r) => late.fw?.onRequest(r) });
    fw = late.fw = new FirmwareDevices(leshan, {
      version: '2.0',
      newVersion: (uri) => /-(\d+\.\d+)\.bin$/.exec(uri)![1]!,
      downloadMs: 'next wake',
      notify: (_ep, path, node) => told.push([path, (node as { value: unknown }).value]),
      reboot: register,
      onEvent: (e) => events.push(e),
    });
    fw.add(ep);
    register();
  });

  afterEach(async () => {
    fw.stop();
    await leshan.close();
  });

  const read = async (path: string) => {
    const res = await fetch(`${leshan.url}/api/clients/${ep}${path}`);
    if (res.status !== 200) return `HTTP ${res.status}`;
    return ((await res.json()) as { content?: { value: unknown } }).content?.value;
  };
  const write = (uri: string) =>
    fetch(`${leshan.url}/api/clients/${ep}/5/0/1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 1, kind: 'singleResource', type: 'STRING', value: uri }),
    });
  const execute = () => fetch(`${leshan.url}/api/clients/${ep}/5/0/2`, { method: 'POST' });

  it('downloads a written URI at the next wake, installs it on the execute and registers again on the new version; reads answer the current values', async () => {
    assert.deepEqual([await read('/5/0/3'), await read('/5/0/5'), await read('/3/0/3')], [0, 0, '2.0']);
    // a read while the device sleeps is refused by Leshan: no answer is left scripted for the next read
    leshan.sleep(ep);
    assert.equal(await read('/5/0/3'), 'HTTP 400');
    leshan.wake(ep);

    assert.equal((await write('https://example.com/fw-2.1.bin')).status, 200);
    await until(() => events.length === 1, 2000, 'the download starting');
    assert.equal(await read('/5/0/3'), 1);
    assert.equal(fw.state(ep), 'Downloading');
    fw.woke(ep);
    assert.equal(await read('/5/0/3'), 2);
    assert.equal((await execute()).status, 200);
    await until(() => events.length === 4, 2000, 'the restart');
    assert.deepEqual(events, [
      { kind: 'downloading', ep, uri: 'https://example.com/fw-2.1.bin' },
      { kind: 'downloaded', ep },
      { kind: 'updating', ep },
      { kind: 'rebooted', ep, version: '2.1' },
    ]);
    assert.deepEqual(told, [
      ['/5/0/3', 1],
      ['/5/0/3', 2],
    ]);
    assert.deepEqual([await read('/5/0/3'), await read('/5/0/5'), await read('/3/0/3')], [0, 1, '2.1']);
    assert.equal(fw.version(ep), '2.1');
  });

  it('an empty URI stops a download; an execute with nothing downloaded installs nothing', async () => {
    await write('https://example.com/fw-3.0.bin');
    await until(() => events.length === 1, 2000, 'the download starting');
    await write('');
    await until(() => events.length === 2, 2000, 'the download stopping');
    assert.deepEqual(events.at(-1), { kind: 'stopped', ep });
    assert.equal(await read('/5/0/3'), 0);
    fw.woke(ep);
    assert.equal((await execute()).status, 200);
    // a write afterwards is seen after the execute: had the execute installed anything, its events would be first
    await write('https://example.com/fw-3.0.bin');
    await until(() => events.length === 3, 2000, 'the next download');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['downloading', 'stopped', 'downloading'],
    );
    assert.equal(fw.version(ep), '2.0');
  });
});

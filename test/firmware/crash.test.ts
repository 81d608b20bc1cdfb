/**
 * kill -9 of the daemon (a real process) while a firmware update is at each step, then a restart on the
 * same data directory: the update resumes at its step and ends SUCCEEDED, with no device request made
 * twice that should not be (one execute; the URI written once unless a write was lost).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startDaemon, type DaemonProcess } from '../../tools/daemon.js';
import { apiCall } from '../support/api.js';
import { until } from '../support/controllerHarness.js';

const int = (id: number, value: number) => ({ kind: 'singleResource', id, type: 'INTEGER', value });

describe('kill -9 at each step of a firmware update, and a restart (real daemon process)', () => {
  let leshan: LeshanDouble;
  const dirs: string[] = [];
  const daemons: DaemonProcess[] = [];
  before(async () => {
    leshan = await startLeshanDouble({ timeScale: 0.02 });
  });
  after(async () => {
    for (const d of daemons) await d.cleanup();
    await leshan.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  for (const step of ['observing', 'writing_uri', 'downloading', 'updating', 'verifying'] as const) {
    it(`killed in step ${step}: resumed there, SUCCEEDED`, async () => {
      const ep = `crash-fw-${step}`;
      const dataDir = await mkdtemp(path.join(tmpdir(), 'lwm2m-fwcrash-'));
      dirs.push(dataDir);
      const config = { leshan: { url: leshan.url, requestTimeoutS: 5 }, influx: { url: 'http://127.0.0.1:9' } };
      let d = await startDaemon({ dataDir, config });
      daemons.push(d);
      const api = (method: string, p: string, body?: unknown) => apiCall(d.url, method, p, body);
      const post = async (objectId: number, node: unknown) => {
        const r = await apiCall(d.url, 'POST', '/leshan_api/resource/single', { ep, obj_id: objectId, val: node });
        assert.equal(r.status, 201);
      };
      const register = async () => {
        leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });
        await post(10240, { kind: 'singleResource', id: 0, type: 'TIME', value: Date.now() });
      };
      const wake = async () => {
        leshan.update(ep);
        await post(10240, { kind: 'singleResource', id: 2, type: 'TIME', value: Date.now() });
      };
      const sent = (p: string) => leshan.requests.filter((r) => r.ep === ep && r.delivered && r.lwm2mPath === p);
      const get = async (id: string) => (await api('GET', `/api/firmware/${id}`)).body;
      const atStep = (id: string, s: string) => until(async () => (await get(id)).step === s, 10_000, `step ${s}`);
      const confirmed = (p: string) =>
        until(async () => ((await api('GET', `/api/operations?ep=${ep}&status=CONFIRMED`)).body.items as any[]).some((o) => o.path === p));

      await register();
      if (step === 'observing') leshan.sleep(ep); // nothing reaches it: the update stays at its first step
      if (step === 'writing_uri') leshan.answer(ep, '/5/0/1', { kind: 'timeout' }); // the write is lost: requeued
      const r = await api('POST', `/api/endpoints/${ep}/firmware`, { uri: 'coap://fw.example/pkg.bin', version: '2.0' });
      assert.equal(r.status, 201);
      const id = r.body.id as string;
      await atStep(id, step === 'verifying' || step === 'updating' ? 'downloading' : step);
      if (step === 'writing_uri') await until(() => sent('/5/0/1').length === 1, 10_000, 'the lost write');
      if (step === 'updating') {
        // executed: the daemon waits for the registration after the reboot
        await post(5, int(3, 2));
        await confirmed('/5/0/2');
      }
      if (step === 'verifying') {
        await post(5, int(3, 2));
        await confirmed('/5/0/2');
        leshan.answer(ep, '/3/0/3', { kind: 'timeout' }); // the read of 3/0/3 is lost
        await register();
        await atStep(id, 'verifying');
        await until(() => sent('/3/0/3').length === 1, 10_000, 'the lost read');
      }
      assert.equal((await get(id)).step, step);

      d.proc.kill('SIGKILL');
      await d.exited;
      d = await startDaemon({ dataDir, config });
      daemons.push(d);
      const resumed = await get(id);
      assert.equal(resumed.status, 'RUNNING');
      assert.equal(resumed.step, step);

      // the device's next wake; then it downloads, reboots into 2.0
      leshan.answer(ep, '/3/0/3', { kind: 'success', content: { kind: 'singleResource', id: 3, type: 'STRING', value: '2.0' } });
      if (step === 'verifying' || step === 'updating') await register();
      else {
        await wake();
        await atStep(id, 'downloading');
        await post(5, int(3, 2));
        await confirmed('/5/0/2');
        await register();
      }
      let done: any;
      await until(async () => (done = await get(id)).status !== 'RUNNING', 10_000, 'update ended');
      assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done));
      assert.equal(sent('/5/0/2').length, 1, 'the execute made once');
      const writes = sent('/5/0/1').filter((w) => (w.json as any)?.value !== '').length;
      assert.equal(writes, step === 'writing_uri' ? 2 : 1, 'the URI written once (again only after a lost write)');
    });
  }
});

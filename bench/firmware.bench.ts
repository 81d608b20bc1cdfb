/**
 * Firmware campaign (issue 12): BENCH_DEVICES (default 1 000) simulated queue-mode devices, one campaign
 * with maxConcurrent 50, the daemon in-process, Leshan as the test double. Object 5 of each device is
 * tools/firmwareDevices.ts (the demo's devices too): it reports Downloaded once its URI reached it, and once
 * it answered the execute registers again with the new version (3/0/3).
 * Printed: the time the campaign took, how many ended in each status, and the most updates RUNNING at once
 * (computed from the updates' own start and end times: between the write of 5/0/1 and the check of 3/0/3
 * there are never more).
 */
import { FirmwareDevices } from '../tools/firmwareDevices.js';
import { startLeshanDouble } from '../tools/leshanDouble.js';
import { startController } from '../test/support/controllerHarness.js';
import { apiCall } from '../test/support/api.js';
import { figure, fmt, heading } from './support/report.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 1000);
const MAX_CONCURRENT = 50;

export async function firmwareBench(): Promise<void> {
  heading(`Firmware campaign: ${fmt(DEVICES)} devices, maxConcurrent ${MAX_CONCURRENT} (daemon in-process, Leshan double)`);
  const late: { devices?: FirmwareDevices } = {}; // made once the double and the daemon are up
  const leshan = await startLeshanDouble({ timeScale: 0.02, onRequest: (r) => late.devices?.onRequest(r) });
  const d = await startController({ leshan: { url: leshan.url, requestTimeoutS: 5 }, influx: { url: 'http://127.0.0.1:9' } });
  const call = (method: string, p: string, body?: unknown) => apiCall(d.url, method, p, body);
  const registration = (ep: string) => ({ ep, obj_id: 10240, val: { kind: 'singleResource', id: 0, type: 'TIME', value: Date.now() } });
  const register = async (ep: string) => {
    leshan.register({ endpoint: ep, queueMode: true, objectLinks: ['/3/0', '/5/0'] });
    await d.post('/leshan_api/resource/single', registration(ep));
  };
  // this daemon takes Leshan's notifications as posts (its default ingress)
  const devices = (late.devices = new FirmwareDevices(leshan, {
    newVersion: () => '2.0',
    notify: (ep, path, node) => d.post('/leshan_api/resource/single', { ep, obj_id: Number(path.split('/')[1]), val: node }),
    reboot: register,
  }));
  try {
    const eps = Array.from({ length: DEVICES }, (_, i) => `fleet-${String(i).padStart(5, '0')}`);
    for (const ep of eps) {
      devices.add(ep);
      await register(ep);
    }
    const started = performance.now();
    const created = await call('POST', '/api/firmware/campaigns', {
      uri: 'coap://fw.example/v2.bin',
      version: '2.0',
      match: 'fleet-*',
      maxConcurrent: MAX_CONCURRENT,
    });
    if (created.status !== 201) throw new Error(`campaign answered ${created.status}: ${JSON.stringify(created.body)}`);
    const id = created.body.id as string;
    while (!(await call('GET', `/api/firmware/campaigns/${id}`)).body.done) await new Promise((r) => setTimeout(r, 10));
    const seconds = (performance.now() - started) / 1000;
    const updates: any[] = [];
    for (let cursor = '0'; ;) {
      const page = (await call('GET', `/api/firmware?limit=1000&cursor=${cursor}`)).body;
      updates.push(...page.items.filter((u: any) => u.campaignId === id));
      if (!page.next) break;
      cursor = page.next;
    }
    // the most updates RUNNING at once, from their own start and end times
    const edges = updates.flatMap((u) => [
      [Date.parse(u.createdAt), 1],
      [Date.parse(u.updatedAt), -1],
    ]) as [number, number][];
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    let most = 0;
    for (const [, delta] of edges) most = Math.max(most, (now += delta));
    const counts = (await call('GET', `/api/firmware/campaigns/${id}`)).body.counts;
    figure('campaign time', `${fmt(seconds, 1)} s (${fmt(DEVICES / seconds, 1)} devices/s)`);
    figure('SUCCEEDED / FAILED / CANCELLED', `${counts.SUCCEEDED} / ${counts.FAILED} / ${counts.CANCELLED}`);
    figure(`most RUNNING at once (maxConcurrent ${MAX_CONCURRENT})`, String(most));
  } finally {
    devices.stop();
    await d.stop();
    await leshan.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await firmwareBench();

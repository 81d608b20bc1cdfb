import type { LeshanDouble } from '../../tools/leshanDouble.js';
import type { RunningController } from './controllerHarness.js';
import { apiCall } from './api.js';

/** What the forked Leshan posts for a registration event (object 10240), to the daemon in `d`. */
export async function postRegistration(d: RunningController, ep: string, event: 'registered' | 'deregistered' | 'updated'): Promise<void> {
  const id = { registered: 0, deregistered: 1, updated: 2 }[event];
  const r = await d.post('/leshan_api/resource/single', {
    ep,
    obj_id: 10240,
    val: { kind: 'singleResource', id, type: 'TIME', value: 1732550000000 },
  });
  if (r.status !== 201) throw new Error(`registration post answered ${r.status}`);
}

/** A device that registers with the Leshan double and tells the daemon, as the fork does. */
export async function registerDevice(d: RunningController, leshan: LeshanDouble, ep: string): Promise<void> {
  leshan.register({ endpoint: ep, queueMode: true });
  await postRegistration(d, ep, 'registered');
}

/** The device's registration update: awake in Leshan, and the daemon hears of it. */
export async function updateDevice(d: RunningController, leshan: LeshanDouble, ep: string): Promise<void> {
  leshan.update(ep);
  await postRegistration(d, ep, 'updated');
}

/** Operator API calls against the daemon in `d`. */
export function operator(d: RunningController, token?: string) {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const call = (method: string, path: string, body?: unknown, extra?: Record<string, string>) =>
    apiCall(d.url, method, path, body, { ...auth, ...extra });
  return {
    call,
    queue: (ep: string, body: unknown, extra?: Record<string, string>) =>
      call('POST', `/api/endpoints/${encodeURIComponent(ep)}/operations`, body, extra),
    get: (id: string) => call('GET', `/api/operations/${id}`),
    cancel: (id: string) => call('DELETE', `/api/operations/${id}`),
  };
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { EventIngress } from '../../src/ingest/eventIngress.js';
import { Ingest } from '../../src/ingest/ingest.js';
import type { Registration } from '../../src/leshan/events.js';
import { testLogger } from '../support/config.js';

function harness(listed: Registration[], registeredHere: string[]) {
  const lines: string[] = [];
  const reconciled: [string, { registered: boolean; queueMode: boolean; awake: boolean }][] = [];
  const ingest = new Ingest({ sink: { write: (l) => lines.push(l) } });
  const metrics = new Registry();
  const ingress = new EventIngress({
    ingest,
    activity: {
      registrationEvent() {},
      presence() {},
      reconcile: (ep, state) => reconciled.push([ep, state]),
      registeredEndpoints: () => registeredHere,
    },
    delayed: { response: async () => false },
    listRegistrations: async () => listed,
    log: testLogger(),
    metrics,
  });
  return { ingress, lines, reconciled, metrics };
}

const reg = (endpoint: string, queueMode: boolean, sleeping?: boolean): Registration => ({
  endpoint,
  registrationId: `id-${endpoint}`,
  queueMode,
  ...(sleeping === undefined ? {} : { sleeping }),
});

describe('EventIngress', () => {
  it("reconciles with Leshan's list: awake unless a queue-mode device is sleeping; unlisted ones deregistered", async () => {
    const h = harness([reg('sleepy', true, true), reg('awake', true, false), reg('always', false)], ['sleepy', 'gone']);
    await h.ingress.reconcile();
    assert.deepEqual(h.reconciled, [
      ['sleepy', { registered: true, queueMode: true, awake: false }],
      ['awake', { registered: true, queueMode: true, awake: true }],
      ['always', { registered: true, queueMode: false, awake: true }],
      ['gone', { registered: false, queueMode: true, awake: false }],
    ]);
  });

  it('stores the good values of a notification and counts the one it cannot use', async () => {
    const h = harness([], []);
    h.ingress.handle({
      type: 'notification',
      ep: 'dev',
      values: {
        '/3303/0/5700': { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21.5' },
        '/3303/0/5701': { id: 5701, kind: 'singleResource', type: 'STRING', value: 42 },
      },
    });
    assert.equal(h.lines.length, 1);
    assert.match(h.lines[0]!, /float=21\.5 /);
    const invalid = (await h.metrics.getSingleMetric('lwm2m_backend_leshan_events_total')!.get()).values.find(
      (v) => v.labels.type === 'invalid',
    );
    assert.equal(invalid?.value, 1);
  });

  it('records REGISTRATION with its registration date, as the forked Leshan posts it, and its queue mode', () => {
    const h = harness([], []);
    h.ingress.handle({ type: 'registration', registration: { ...reg('dev', true), registrationDate: 1732550000000 } });
    assert.equal(h.lines.length, 1);
    assert.match(h.lines[0]!, /^registration,ep=dev,event=registered registration_time=1732550000000i,queue_mode=true \d+$/);
  });
});

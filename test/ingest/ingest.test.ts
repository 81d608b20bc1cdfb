import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CrossSourceDedupe } from '../../src/ingest/dedupe.js';
import { Ingest, type EndpointActivity } from '../../src/ingest/ingest.js';
import { registrationValue } from '../../src/lwm2m/registrationObject.js';

/** An activity port that records what it is told. */
function recorder(): EndpointActivity & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    registrationEvent: (ep, event) => void calls.push(`${event} ${ep}`),
    presence: (ep, awake) => void calls.push(`${awake ? 'awake' : 'sleeping'} ${ep}`),
    reconcile: (ep) => void calls.push(`reconcile ${ep}`),
    registeredEndpoints: () => [],
  };
}

describe('Ingest', () => {
  it('writes values without telling the endpoint registry: a value does not make a device awake (Leshan does not take it so)', () => {
    const lines: string[] = [];
    const activity = recorder();
    const ingest = new Ingest({ sink: { write: (l) => lines.push(l) }, activity });
    const temperature = { objectId: 3303, instanceId: 0, resourceId: 5700, value: { type: 'FLOAT' as const, value: 21.5 } };
    ingest.accept({ ep: 'dev', values: [temperature, temperature] });
    ingest.acceptNode('dev', '/3303/0/5700', { id: 5700, kind: 'singleResource', type: 'FLOAT', value: 22 }, 'event');
    assert.equal(lines.length, 3);
    assert.deepEqual(activity.calls, [], 'values alone: no presence, no wake');
    ingest.accept({ ep: 'dev', values: [registrationValue('updated', 1_732_550_000_000)] });
    assert.deepEqual(activity.calls, ['updated dev'], 'a registration update does');
    assert.equal(lines.length, 4);
  });

  it('with both ingress paths, content the daemon read itself never hides a notification of the same value', () => {
    const lines: string[] = [];
    const ingest = new Ingest({ sink: { write: (l) => lines.push(l) }, dedupe: new CrossSourceDedupe() });
    const node = { id: 14, kind: 'singleResource', type: 'STRING', value: '+00:00' };
    ingest.acceptNode('dev', '/3/0/14', node, 'read'); // a read the daemon delivered
    ingest.acceptNode('dev', '/3/0/14', node, 'event'); // then the device notifies the same value
    assert.equal(lines.length, 2, 'both are readings (the read was taken for a post, and the notification dropped)');
    ingest.acceptNode('dev', '/3/0/14', node, 'post'); // the fork posts what the stream already announced
    assert.equal(lines.length, 2, 'the same notification from the other path is still written once');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CrossSourceDedupe } from '../../src/ingest/dedupe.js';
import { Ingest, type EndpointActivity } from '../../src/ingest/ingest.js';
import { registrationValue } from '../../src/lwm2m/registrationObject.js';
import { parseCompositePost, parseSinglePost, parseTimestampedPost } from '../../src/ingest/parsePost.js';
import { NanoClock } from '../../src/ingest/nanoClock.js';
import { registrationPost, singleResource } from '../support/posts.js';

/** An activity port that records what it is told. */
function recorder(): EndpointActivity & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    registrationEvent: (ep, event, _value, info) => void calls.push(`${event} ${ep}${info ? ` ${JSON.stringify(info)}` : ''}`),
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

/** An Ingest writing into `lines`, its clocks fixed: arrival at ARRIVAL_MS. */
const ARRIVAL_MS = Date.UTC(2026, 10, 29, 4, 0, 0);
function ingestInto(lines: string[], activity?: EndpointActivity) {
  return new Ingest({
    sink: { write: (l) => lines.push(l) },
    ...(activity && { activity }),
    clock: new NanoClock(() => ARRIVAL_MS),
    now: () => ARRIVAL_MS,
    maxFutureSkewMs: 60_000,
  });
}
const temp = (value: number) => ({ kind: 'singleResource', id: 5700, type: 'FLOAT', value });
const timestampOf = (line: string) => line.slice(line.lastIndexOf(' ') + 1);

describe('Ingest: device times', () => {
  it("writes each value at its device time in ns, a null entry's at arrival time; a replay gives the same lines but those", () => {
    const body = {
      ep: 'dev',
      val: [
        { '2026-11-28T04:00:00.000000001Z': { nodes: { '/3303/0/5700': temp(1) } } },
        { null: { nodes: { '/3303/0/5700': temp(2) } } },
        { '2026-11-28T05:00:00.5Z': { nodes: { '/3303/0/5700': temp(3), '/3303/1/5700': temp(4) } } },
      ],
    };
    const first: string[] = [];
    const replay: string[] = [];
    let into = first;
    const ingest = new Ingest({ sink: { write: (l) => into.push(l) }, clock: new NanoClock(() => ARRIVAL_MS), now: () => ARRIVAL_MS });
    assert.equal(ingest.accept(parseTimestampedPost(body)), 4);
    assert.deepEqual(first.map(timestampOf), [
      '1795838400000000001',
      `${ARRIVAL_MS}000000`,
      '1795842000500000000',
      '1795842000500000000', // another series
    ]);
    into = replay; // the same daemon, the same post delivered again
    ingest.accept(parseTimestampedPost(body));
    assert.deepEqual(
      replay.filter((_, i) => i !== 1),
      first.filter((_, i) => i !== 1),
      'same series, same time: InfluxDB overwrites the point with itself',
    );
    assert.notEqual(replay[1], first[1], 'the arrival-time entry is the one that differs');
  });

  it('writes a device time beyond the skew or before 2000 at arrival time, keeps it in device_time and counts it', () => {
    const lines: string[] = [];
    const ingest = ingestInto(lines);
    ingest.accept(
      parseTimestampedPost({
        ep: 'dev',
        val: [
          { '2026-11-29T04:01:00Z': { nodes: { '/3303/0/5700': temp(1) } } }, // now + 60 s: within the skew
          { '2026-11-29T04:01:00.000000001Z': { nodes: { '/3303/0/5700': temp(2), '/3303/1/5700': temp(3) } } },
          { '1970-01-01T00:00:05Z': { nodes: { '/3303/0/5700': temp(4) } } },
          { '2000-01-01T00:00:00Z': { nodes: { '/3303/0/5700': temp(5) } } },
          { '+10000-01-01T00:00:00Z': { nodes: { '/3303/0/5700': temp(6) } } }, // as Java's Instant writes a clock gone wild
        ],
      }),
    );
    assert.deepEqual(
      lines.map((l) => [l.slice(l.indexOf('type=FLOAT ') + 11, l.lastIndexOf(' ')), timestampOf(l)]),
      [
        ['float=1', '1795924860000000000'],
        ['float=2,device_time="2026-11-29T04:01:00.000000001Z"', `${ARRIVAL_MS}000000`],
        ['float=3,device_time="2026-11-29T04:01:00.000000001Z"', `${ARRIVAL_MS}000001`],
        ['float=4,device_time="1970-01-01T00:00:05Z"', `${ARRIVAL_MS}000002`],
        ['float=5', '946684800000000000'],
        ['float=6,device_time="+10000-01-01T00:00:00Z"', `${ARRIVAL_MS}000003`],
      ],
    );
    assert.deepEqual(ingest.deviceTimesUnused, { future: 3, before_2000: 1 });
  });

  it('with both ingress paths, a value at its device time is written even when the stream announced it first', () => {
    const lines: string[] = [];
    const ingest = new Ingest({ sink: { write: (l) => lines.push(l) }, dedupe: new CrossSourceDedupe(), now: () => ARRIVAL_MS });
    ingest.acceptNode('dev', '/3303/0/5700', temp(1), 'event');
    ingest.accept(parseTimestampedPost({ ep: 'dev', val: [{ '2026-11-29T03:00:00Z': { nodes: { '/3303/0/5700': temp(1) } } }] }));
    assert.equal(lines.length, 2);
    assert.equal(timestampOf(lines[1]!), '1795921200000000000');
    ingest.acceptNode('dev', '/3303/0/5700', temp(7), 'post');
    ingest.acceptNode('dev', '/3303/0/5700', temp(7), 'event');
    assert.equal(lines.length, 3, 'arrival-time values are still written once');
  });
});

describe('Ingest: object 10240 of the posts contract', () => {
  const r = singleResource;
  const registration = (id: 0 | 2) =>
    registrationPost('dev', {
      resource: id,
      date: 1_764_000_000_000,
      links: '</>;rt="oma.lwm2m";ct=60 110 112,</1/0>,</3/0>,</3303/0>',
      lifetime: 300,
    });

  it('a registration composite with 5-8 is one registration event carrying queue mode and object links; 5-8 are no data', () => {
    const lines: string[] = [];
    const activity = recorder();
    const ingest = ingestInto(lines, activity);
    assert.equal(ingest.accept(parseCompositePost(registration(0))), 5);
    const info = {
      queueMode: true,
      objectLinks: [
        { url: '/', attributes: { rt: 'oma.lwm2m', ct: '60 110 112' } },
        { url: '/1/0', attributes: {} },
        { url: '/3/0', attributes: {} },
        { url: '/3303/0', attributes: {} },
      ],
    };
    assert.deepEqual(activity.calls, [`registered dev ${JSON.stringify(info)}`]);
    assert.deepEqual(lines, [
      'registration,ep=dev,event=registered registration_time=1764000000000i,queue_mode=true,binding="UQ",' +
        `object_links="</>;rt=\\"oma.lwm2m\\";ct=60 110 112,</1/0>,</3/0>,</3303/0>",lifetime=300i ${ARRIVAL_MS}000000`,
    ]);
    ingest.accept(parseCompositePost(registration(2)));
    assert.match(activity.calls[1]!, /^updated dev \{"queueMode":true/);
    assert.match(lines[1]!, /^registration,ep=dev,event=updated registration_time=1764000000000i,queue_mode=true,/);
  });

  it("keeps the fork's single registration posts, and takes 3 and 4 as presence, recorded as awake/sleeping", () => {
    const lines: string[] = [];
    const activity = recorder();
    const ingest = ingestInto(lines, activity);
    const single = (id: number, value: number) => parseSinglePost({ ep: 'dev', obj_id: 10240, val: r(id, 'TIME', value) });
    ingest.accept(single(0, 1_764_000_000_000));
    ingest.accept(single(3, 1_764_000_100_000));
    ingest.accept(single(4, 1_764_000_200_000));
    ingest.accept(single(2, 1_764_000_000_000));
    ingest.accept(single(1, 1_764_000_000_000));
    assert.deepEqual(activity.calls, ['registered dev', 'awake dev', 'sleeping dev', 'updated dev', 'deregistered dev']);
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
      [
        'registration,ep=dev,event=registered registration_time=1764000000000i',
        'registration,ep=dev,event=awake event_time=1764000100000i',
        'registration,ep=dev,event=sleeping event_time=1764000200000i',
        'registration,ep=dev,event=updated registration_time=1764000000000i',
        'registration,ep=dev,event=deregistered registration_time=1764000000000i',
      ],
    );
  });

  it('5-8 without a registration event are neither an event nor data; a value beside the registration is data', () => {
    const lines: string[] = [];
    const activity = recorder();
    const ingest = ingestInto(lines, activity);
    ingest.accept(
      parseCompositePost({
        ep: 'dev',
        val: { '/10240/0/5': r(5, 'BOOLEAN', false), '/10240/0/8': r(8, 'INTEGER', 60), '/3303/0/5700': temp(20) },
      }),
    );
    assert.deepEqual(activity.calls, []);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^lwm2m,ep=dev,inst=0,obj=3303,/);
  });
});

// Section numbers (§) refer to docs/leshan-rest-api.md.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLeshanEvent, parseRegistration, parseRegistrations, type LeshanEvent } from '../../src/leshan/events.js';

/** §6, 2.x (JacksonRegistrationSerializer field order), a non-queue-mode client. */
const REG_2X = {
  endpoint: 'qemu_x86',
  registrationId: 'Ab12Cd34',
  registrationDate: 1718790000123,
  lastUpdate: 1718790005456,
  address: '172.18.0.5:56830',
  lwM2mVersion: '1.1',
  lifetime: 86400,
  bindingMode: 'U',
  rootPath: '/',
  objectLinks: [
    { url: '/', attributes: { rt: '"oma.lwm2m"', ct: '11543' } },
    { url: '/1/0', attributes: {} },
    { url: '/3/0', attributes: {} },
    { url: '/3303/0', attributes: {} },
  ],
  secure: false,
  additionalRegistrationAttributes: {},
  queuemode: false,
  availableInstances: { 1: [0], 3: [0], 3303: [0] },
};

/** §6, 2.x queue mode: `sleeping` present. */
const REG_2X_Q = { ...REG_2X, endpoint: 'sleepy', registrationId: 'Zz99', bindingMode: 'U', queuemode: true, sleeping: true };

/** §6, 1.x (Gson): ISO dates, no queuemode, no availableInstances. */
const REG_1X = {
  endpoint: 'old1',
  registrationId: 'reg-1x',
  registrationDate: '2024-06-19T10:20:30+02:00',
  lastUpdate: '2024-06-19T08:21:00Z',
  address: '10.0.0.2:5683',
  lwM2mVersion: '1.0',
  lifetime: 300,
  bindingMode: 'UQ',
  rootPath: '/',
  objectLinks: [
    { url: '/1/0', attributes: {} },
    { url: '/3/0', attributes: {} },
  ],
  secure: false,
  additionalRegistrationAttributes: {},
};

function ok(event: string, data: unknown): LeshanEvent {
  const r = parseLeshanEvent(event, typeof data === 'string' ? data : JSON.stringify(data));
  assert.ok(r !== undefined, `${event} was ignored`);
  assert.ok(!('error' in r), `${event} failed: ${'error' in r ? r.error : ''}`);
  return r;
}

function err(event: string, data: string): string {
  const r = parseLeshanEvent(event, data);
  assert.ok(r !== undefined && 'error' in r, `${event} ${data} should be an error, got ${JSON.stringify(r)}`);
  return r.error;
}

describe('parseLeshanEvent', () => {
  it('REGISTRATION (2.x): the §6 fields, ms dates, queuemode false, no sleeping', () => {
    assert.deepEqual(ok('REGISTRATION', REG_2X), {
      type: 'registration',
      registration: {
        endpoint: 'qemu_x86',
        registrationId: 'Ab12Cd34',
        registrationDate: 1718790000123,
        lastUpdate: 1718790005456,
        queueMode: false,
        lwM2mVersion: '1.1',
        bindingMode: 'U',
        objectLinks: REG_2X.objectLinks,
        contentFormats: [11543], // the root link's ct
      },
    });
  });

  it('REGISTRATION (2.x, queue mode): queuemode true and sleeping kept', () => {
    const e = ok('REGISTRATION', REG_2X_Q);
    assert.equal(e.type, 'registration');
    assert.equal(e.registration.queueMode, true); // from queuemode, although the 1.1 binding has no Q
    assert.equal(e.registration.sleeping, true);
  });

  it('REGISTRATION (1.x): ISO dates become ms, queue mode comes from the Q in the binding', () => {
    const e = ok('REGISTRATION', REG_1X);
    assert.equal(e.type, 'registration');
    assert.equal(e.registration.registrationDate, Date.UTC(2024, 5, 19, 8, 20, 30));
    assert.equal(e.registration.lastUpdate, Date.UTC(2024, 5, 19, 8, 21, 0));
    assert.equal(e.registration.queueMode, true);
    assert.equal(e.registration.sleeping, undefined);
    const plain = ok('REGISTRATION', { ...REG_1X, bindingMode: 'U' });
    assert.equal(plain.type === 'registration' && plain.registration.queueMode, false);
  });

  it('queuemode wins over the binding when both are present', () => {
    const e = ok('REGISTRATION', { ...REG_2X, bindingMode: 'UQ', queuemode: false });
    assert.equal(e.type === 'registration' && e.registration.queueMode, false);
  });

  it('an unreadable date is left out, the registration is kept', () => {
    const e = ok('REGISTRATION', { ...REG_2X, registrationDate: 'yesterday', lastUpdate: null });
    assert.equal(e.type, 'registration');
    assert.equal('registrationDate' in e.registration, false);
    assert.equal('lastUpdate' in e.registration, false);
  });

  it('UPDATED: {"registration":{…§6…},"update":{…}}', () => {
    const update = { registrationId: 'Zz99', address: '172.18.0.5:56830', lifetime: 300, secure: false, additionalAttributes: {} };
    const e = ok('UPDATED', `{"registration":${JSON.stringify(REG_2X_Q)},"update":${JSON.stringify(update)}}`);
    assert.equal(e.type, 'updated');
    assert.equal(e.registration.endpoint, 'sleepy');
    assert.equal(e.registration.queueMode, true);
    assert.deepEqual(e.update, update);
  });

  it('DEREGISTRATION: registration JSON', () => {
    const e = ok('DEREGISTRATION', REG_2X);
    assert.equal(e.type, 'deregistration');
    assert.equal(e.registration.registrationId, 'Ab12Cd34');
  });

  it('AWAKE and SLEEPING: {"ep":"X"}', () => {
    assert.deepEqual(ok('AWAKE', '{"ep":"sleepy"}'), { type: 'awake', ep: 'sleepy' });
    assert.deepEqual(ok('SLEEPING', '{"ep":"sleepy"}'), { type: 'sleeping', ep: 'sleepy' });
  });

  it('NOTIFICATION single (2.x): values keyed by res', () => {
    const node = { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21.5' };
    assert.deepEqual(ok('NOTIFICATION', { ep: 'qemu_x86', kind: 'single', res: '/3303/0/5700', val: node }), {
      type: 'notification',
      ep: 'qemu_x86',
      values: { '/3303/0/5700': node },
    });
  });

  it('NOTIFICATION (1.x, no kind): treated as single', () => {
    const node = { id: 5700, value: 21.5 };
    assert.deepEqual(ok('NOTIFICATION', '{"ep":"old1","res":"/3303/0/5700","val":{"id":5700,"value":21.5}}'), {
      type: 'notification',
      ep: 'old1',
      values: { '/3303/0/5700': node },
    });
  });

  it('NOTIFICATION composite: val is the path → node map (paths ignored)', () => {
    const val = {
      '/3303/0/5700': { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '21.5' },
      '/3/0/9': { id: 9, kind: 'singleResource', type: 'INTEGER', value: '80' },
    };
    assert.deepEqual(ok('NOTIFICATION', { ep: 'qemu_x86', kind: 'composite', val, paths: Object.keys(val) }), {
      type: 'notification',
      ep: 'qemu_x86',
      values: val,
    });
  });

  it('SEND: {"ep","val":{path:node}}', () => {
    const val = { '/3303/0/5700': { id: 5700, kind: 'singleResource', type: 'FLOAT', value: '19.0' } };
    assert.deepEqual(ok('SEND', { ep: 'qemu_x86', val }), { type: 'send', ep: 'qemu_x86', values: val });
  });

  it('REQUEST_RESPONSE (LM): with and without path', () => {
    const response = { status: 'CHANGED(204)', valid: true, success: true, failure: false };
    assert.deepEqual(ok('REQUEST_RESPONSE', { ep: 'sleepy', path: '/3/0/1', requestId: 'u-1', response, delayed: true }), {
      type: 'requestResponse',
      ep: 'sleepy',
      path: '/3/0/1',
      requestId: 'u-1',
      response,
    });
    const composite = ok('REQUEST_RESPONSE', { ep: 'sleepy', requestId: 'u-2', response, delayed: true });
    assert.deepEqual(composite, { type: 'requestResponse', ep: 'sleepy', requestId: 'u-2', response });
    assert.equal('path' in composite, false);
  });

  it('unknown events are ignored, whatever their data', () => {
    const coaplog =
      '{"timestamp":1718790000123,"incoming":true,"type":"CON","code":"POST","mId":1,"token":"ab","options":"","payload":"","ep":"x"}';
    assert.equal(parseLeshanEvent('COAPLOG', coaplog), undefined);
    assert.equal(parseLeshanEvent('COAP_LOG', 'not json'), undefined);
    assert.equal(parseLeshanEvent('message', '{"ep":"x"}'), undefined);
    assert.equal(parseLeshanEvent('registration', JSON.stringify(REG_2X)), undefined); // names are case-sensitive
  });

  it('malformed data gives an error naming the problem, never a throw', () => {
    assert.match(err('REGISTRATION', '{"endpoint":'), /REGISTRATION: data is not JSON/);
    assert.match(err('AWAKE', '[]'), /AWAKE: data is an array/);
    assert.match(err('AWAKE', 'null'), /AWAKE: data is null/);
    assert.match(err('SLEEPING', '{}'), /SLEEPING: ep is missing/);
    assert.match(err('AWAKE', '{"ep":""}'), /ep is an empty string/);
    assert.match(err('REGISTRATION', JSON.stringify({ ...REG_2X, registrationId: undefined })), /registrationId is missing/);
    assert.match(err('DEREGISTRATION', JSON.stringify({ ...REG_2X, endpoint: 7 })), /endpoint is a number/);
    assert.match(err('UPDATED', JSON.stringify(REG_2X)), /UPDATED: registration is missing/);
    assert.match(err('UPDATED', JSON.stringify({ registration: REG_2X })), /UPDATED: update is missing/);
    assert.match(err('NOTIFICATION', '{"ep":"x","kind":"single","val":1}'), /res is missing/);
    assert.match(err('NOTIFICATION', '{"ep":"x","kind":"single","res":"/3/0/1"}'), /val is missing/);
    assert.match(err('NOTIFICATION', '{"ep":"x","kind":"composite","val":[1]}'), /val is an array/);
    assert.match(err('NOTIFICATION', '{"ep":"x","kind":"multi","res":"/3/0/1","val":1}'), /kind is "multi"/);
    assert.match(err('NOTIFICATION', '{"kind":"single","res":"/3/0/1","val":1}'), /ep is missing/);
    assert.match(err('SEND', '{"ep":"x"}'), /SEND: val is missing/);
    assert.match(err('REQUEST_RESPONSE', '{"ep":"x","response":{}}'), /requestId is missing/);
    assert.match(err('REQUEST_RESPONSE', '{"ep":"x","requestId":"r"}'), /response is missing/);
    assert.match(err('REQUEST_RESPONSE', '{"ep":"x","requestId":"r","response":{},"path":5}'), /path is a number/);
    assert.match(err('NOTIFICATION', ''), /not JSON/);
  });
});

describe('parseLeshanEvent: what a hostile Leshan may send', () => {
  const BAD_NAMES: Array<[string, string, RegExp]> = [
    ['newline', 'dev\n1', /control characters \(U\+000A\)/],
    ['BEL', 'dev\u00071', /control characters \(U\+0007\)/],
    ['300 000 characters', 'x'.repeat(300_000), /longer than 256 characters/],
    ['backslash', 'a\\b', /backslash/],
    ['C1 control', 'a\u0085b', /U\+0085/],
  ];

  it('an endpoint name the daemon cannot store is refused in every event that carries one, and never quoted whole', () => {
    for (const [what, ep, why] of BAD_NAMES) {
      const cases: Array<[string, unknown]> = [
        ['REGISTRATION', { ...REG_2X, endpoint: ep }],
        ['DEREGISTRATION', { ...REG_2X, endpoint: ep }],
        ['UPDATED', { registration: { ...REG_2X, endpoint: ep }, update: {} }],
        ['AWAKE', { ep }],
        ['SLEEPING', { ep }],
        ['NOTIFICATION', { ep, kind: 'single', res: '/3/0/1', val: { id: 1, kind: 'singleResource', type: 'STRING', value: 'x' } }],
        ['NOTIFICATION', { ep, kind: 'composite', val: {} }],
        ['SEND', { ep, val: {} }],
        ['REQUEST_RESPONSE', { ep, requestId: 'r', response: {} }],
      ];
      for (const [event, data] of cases) {
        const r = parseLeshanEvent(event, JSON.stringify(data));
        assert.ok(r !== undefined && 'error' in r, `${what} in ${event} was accepted`);
        assert.match(r.error, new RegExp(`^${event}: .*invalid endpoint name`), `${what} in ${event}: ${r.error}`);
        assert.match(r.error, why);
        assert.ok(!r.error.includes(ep), 'the error text does not carry the name');
        assert.ok(r.badEndpoint !== undefined && r.badEndpoint.length < 120, `${what}: preview ${r.badEndpoint?.slice(0, 200)}`);
        assert.ok(!/[\u0000-\u001f]/.test(r.badEndpoint), 'the preview is JSON-quoted');
      }
    }
    const long = parseLeshanEvent('AWAKE', JSON.stringify({ ep: 'x'.repeat(300_000) }));
    assert.deepEqual(long, {
      error: 'AWAKE: ep: invalid endpoint name (ep is longer than 256 characters)',
      badEndpoint: `"${'x'.repeat(64)}"… (300000 characters)`,
    });
    // the longest and the oddest names still allowed
    assert.deepEqual(ok('AWAKE', { ep: 'é'.repeat(256) }), { type: 'awake', ep: 'é'.repeat(256) });
    assert.deepEqual(ok('AWAKE', { ep: 'a/b;c%d e' }), { type: 'awake', ep: 'a/b;c%d e' });
  });

  it('data nested deeper than 64 levels is refused before it is parsed', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    assert.equal(
      err('NOTIFICATION', `{"ep":"x","kind":"single","res":"/3/0/1","val":${deep}}`),
      'NOTIFICATION: data nested deeper than 64 levels',
    );
    assert.equal(
      err('REQUEST_RESPONSE', `{"ep":"x","requestId":"r","response":{"content":${deep}}}`),
      'REQUEST_RESPONSE: data nested deeper than 64 levels',
    );
    assert.equal(parseLeshanEvent('COAPLOG', deep), undefined, 'unknown events are not even scanned');
  });

  it('GET /api/clients: entries with such names are skipped', () => {
    const regs = parseRegistrations([{ ...REG_2X, endpoint: 'bad\u0007' }, REG_1X, { ...REG_2X, endpoint: 'y'.repeat(257) }]);
    assert.deepEqual(
      regs.map((r) => r.endpoint),
      ['old1'],
    );
  });
});

describe('parseRegistrations (GET /api/clients)', () => {
  it('parses every well-formed entry and skips the malformed ones', () => {
    const regs = parseRegistrations([REG_2X, { endpoint: 'no-id' }, null, 'x', REG_1X, REG_2X_Q]);
    assert.deepEqual(
      regs.map((r) => [r.endpoint, r.registrationId, r.queueMode]),
      [
        ['qemu_x86', 'Ab12Cd34', false],
        ['old1', 'reg-1x', true],
        ['sleepy', 'Zz99', true],
      ],
    );
    assert.equal(regs[1]?.registrationDate, Date.UTC(2024, 5, 19, 8, 20, 30));
  });

  it('a non-array gives no registrations', () => {
    assert.deepEqual(parseRegistrations({ endpoint: 'x' }), []);
    assert.deepEqual(parseRegistrations(undefined), []);
  });

  it('parseRegistration names the problem', () => {
    assert.deepEqual(parseRegistration('x'), { error: 'registration is a string, expected an object' });
  });
});

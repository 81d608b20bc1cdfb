import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WriteFormats } from '../../src/leshan/writeFormats.js';
import { registrationValue } from '../../src/lwm2m/registrationObject.js';
import { ActivityEffects } from '../../src/operations/activityEffects.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator } from '../support/fleet.js';
import { registrationPost } from '../support/posts.js';

const root = (ct: string) => ({ url: '/', attributes: { rt: '"oma.lwm2m"', ct } });

describe('ActivityEffects: write formats from registrations, whatever their source', () => {
  it('sets the format from the links of a registration or update, resets it on a registration without, forgets it at deregistration', () => {
    const formats = new WriteFormats('TLV');
    const activity = new ActivityEffects({
      registry: { registrationEvent() {} } as never,
      standing: { registered: async () => {} } as never,
      writeFormats: formats,
    });
    const at = registrationValue('registered', 1);
    activity.registrationEvent('a', 'registered', at, { objectLinks: [root('"110 112"'), { url: '/3/0', attributes: {} }] });
    assert.equal(formats.for('a'), 'SENML_CBOR');
    activity.registrationEvent('a', 'updated', registrationValue('updated', 1));
    assert.equal(formats.for('a'), 'SENML_CBOR', 'an update without links changes nothing');
    activity.registrationEvent('a', 'updated', registrationValue('updated', 1), { objectLinks: [root('"11542"')] });
    assert.equal(formats.for('a'), 'TLV');
    activity.registrationEvent('b', 'registered', at, { objectLinks: [root('"110"')] });
    assert.equal(formats.for('b'), 'SENML_JSON');
    activity.registrationEvent('b', 'registered', at);
    assert.equal(formats.for('b'), 'TLV', "a registration without links (the seed fork's) lists nothing");
    activity.registrationEvent('c', 'registered', at, { objectLinks: [root('"110"')] });
    activity.registrationEvent('c', 'deregistered', registrationValue('deregistered', 1));
    assert.equal(formats.for('c'), 'TLV');
  });
});

describe("with leshan.ingress 'posts', the registration's links choose the write format", () => {
  let leshan: LeshanDouble;
  let d: RunningController;
  before(async () => {
    leshan = await startLeshanDouble({});
    d = await startController({ leshan: { url: leshan.url, ingress: 'posts', writeFormat: 'TLV' } });
  });
  after(async () => {
    await d?.stop();
    await leshan?.close();
  });

  it('a device whose posted links (10240/0/7) list only SenML gets its writes in SenML CBOR', async () => {
    leshan.register({ endpoint: 'senml-only', queueMode: true });
    const posted = await d.post(
      '/leshan_api/resource/composite',
      registrationPost('senml-only', { date: Date.now(), links: '</>;rt="oma.lwm2m";ct="110 112",</1/0>,</3/0>,</3303/0>' }),
    );
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const op = await operator(d).queue('senml-only', { kind: 'write', path: '/3303/0/5750', value: 'lab' });
    assert.equal(op.status, 201, JSON.stringify(op.body));
    await until(() => leshan.requests.some((r) => r.ep === 'senml-only' && r.method === 'PUT'), 10_000, 'the write reached Leshan');
    const write = leshan.requests.find((r) => r.ep === 'senml-only' && r.method === 'PUT')!;
    assert.equal(write.query.format, 'SENML_CBOR');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listedContentFormats, parseRegistration, type Registration } from '../../src/leshan/events.js';
import { chooseWriteFormat, WriteFormats } from '../../src/leshan/writeFormats.js';
import type { Operation } from '../../src/operations/operation.js';
import { startLeshanDouble, type LeshanDouble } from '../../tools/leshanDouble.js';
import { startController, until, type RunningController } from '../support/controllerHarness.js';
import { operator } from '../support/fleet.js';

const root = (ct?: unknown, url = '/') => ({ url, attributes: { rt: '"oma.lwm2m"', ...(ct === undefined ? {} : { ct }) } });
const reg = (endpoint: string, objectLinks?: unknown[]): Registration =>
  parseRegistration({ endpoint, registrationId: 'r1', queuemode: true, ...(objectLinks && { objectLinks }) }) as Registration;

describe('the content format of writes, per endpoint (src/leshan/writeFormats.ts)', () => {
  it('reads the formats a registration lists from its root link, as each Leshan writes it (events.ts)', () => {
    assert.deepEqual(reg('a', [root('"110 112"')]).contentFormats, [110, 112]);
    assert.equal('contentFormats' in reg('a', [root()]), false);
    // a real M18 client through the real M4 server: CoRE link text, quoted when several
    assert.deepEqual(
      listedContentFormats([root('"60 110 112 11542 11543"'), { url: '/3/0', attributes: {} }]),
      [60, 110, 112, 11542, 11543],
    );
    assert.deepEqual(listedContentFormats([root('11543')]), [11543]);
    assert.deepEqual(listedContentFormats([root(112)]), [112]);
    // the root link at another path, known by its rt
    assert.deepEqual(listedContentFormats([{ url: '/3/0', attributes: {} }, root('"110 112"', '/lwm2m')]), [110, 112]);
    // nothing listed: no root link, no ct (a 1.0 client, or a real client's update re-sending its links), junk
    assert.equal(listedContentFormats(undefined), undefined);
    assert.equal(listedContentFormats([{ url: '/3/0', attributes: {} }]), undefined);
    assert.equal(listedContentFormats([root()]), undefined);
    assert.equal(listedContentFormats([root(null)]), undefined);
    assert.equal(listedContentFormats([root('"tlv json"')]), undefined);
    assert.equal(listedContentFormats(['</>;ct=110', 7, null]), undefined);
  });

  it('keeps the configured format when listed or nothing is listed, else takes the best listed one', () => {
    assert.equal(chooseWriteFormat('TLV', [60, 110, 112, 11542, 11543]), 'TLV');
    assert.equal(chooseWriteFormat('TLV', undefined), 'TLV');
    assert.equal(chooseWriteFormat('TLV', []), 'TLV');
    // the order: SENML_CBOR, TLV, SENML_JSON, JSON, CBOR
    assert.equal(chooseWriteFormat('TLV', [110, 112]), 'SENML_CBOR');
    assert.equal(chooseWriteFormat('SENML_JSON', [11542, 112]), 'SENML_CBOR');
    assert.equal(chooseWriteFormat('SENML_CBOR', [11543, 110, 11542]), 'TLV');
    assert.equal(chooseWriteFormat('TLV', [11543, 110]), 'SENML_JSON');
    assert.equal(chooseWriteFormat('TLV', [60, 11543]), 'JSON');
    assert.equal(chooseWriteFormat('TLV', [60]), 'CBOR');
    // TEXT is mandatory for a 1.1 client, so never listed; a list of formats Leshan does not write in changes nothing
    assert.equal(chooseWriteFormat('TEXT', [112]), 'TEXT');
    assert.equal(chooseWriteFormat('TLV', [42, 40]), 'TLV');
  });

  it('follows registrations, updates, deregistrations and the reconciled list, keeping only the endpoints that differ', () => {
    const f = new WriteFormats('TLV');
    f.registered(reg('a', [root('"110 112"')]));
    f.registered(reg('b', [root('"112 11542"')]));
    f.registered(reg('c'));
    assert.deepEqual([f.for('a'), f.for('b'), f.for('c'), f.for('unknown')], ['SENML_CBOR', 'TLV', 'TLV', 'TLV']);
    assert.equal(f.size, 1, 'only a is kept');
    // an update whose root link has no ct (a real client re-sending its links) leaves the choice alone
    f.updated(reg('a', [root(), { url: '/3/0', attributes: {} }]));
    assert.equal(f.for('a'), 'SENML_CBOR');
    f.updated(reg('a', [root('"110"')]));
    assert.equal(f.for('a'), 'SENML_JSON');
    // a new registration listing nothing: the configured one
    f.registered(reg('a', [root()]));
    assert.equal(f.for('a'), 'TLV');
    f.registered(reg('a', [root('"110 112"')]));
    f.deregistered('a');
    assert.equal(f.for('a'), 'TLV');
    f.registered(reg('a', [root('"110 112"')]));
    f.registered(reg('d', [root('"110"')]));
    f.reconciled([reg('d', [root()]), reg('e', [root('11543')])]);
    assert.deepEqual([f.for('a'), f.for('d'), f.for('e')], ['TLV', 'SENML_JSON', 'JSON'], 'a is gone from Leshan');
    assert.equal(f.size, 2);
  });

  describe('the daemon with the Leshan double (ingress "events")', () => {
    let leshan: LeshanDouble;
    let d: RunningController;
    let api: ReturnType<typeof operator>;
    before(async () => {
      leshan = await startLeshanDouble({ heartbeatMs: 100, timeScale: 0.02 });
      d = await startController({
        leshan: { url: leshan.url, ingress: 'events', requestTimeoutS: 5, writeFormat: 'TLV' },
        influx: { url: 'http://127.0.0.1:9' },
      });
      api = operator(d);
      await until(() => leshan.streamCount() === 1, 5000, 'the daemon follows the event stream');
    });
    after(async () => {
      await d?.stop();
      await leshan?.close();
    });

    const writeFormatOf = async (ep: string): Promise<string | undefined> => {
      const op = (await api.queue(ep, { kind: 'write', path: '/3/0/15', value: 'Europe/Paris' })).body as Operation;
      await until(async () => ((await api.get(op.id)).body as Operation).status === 'CONFIRMED', 10_000, `write to ${ep} confirmed`);
      const sent = leshan.requests.filter((r) => r.ep === ep && r.method === 'PUT');
      assert.equal(sent.length, 1);
      return sent[0]!.query.format;
    };

    it('writes in the configured TLV to a device listing it, in SENML_CBOR to one listing only SenML, in TLV to a 1.0 device', async () => {
      leshan.register({ endpoint: 'wf-all', queueMode: false }); // the double's 1.1 root link: what a real M18 client lists
      leshan.register({ endpoint: 'wf-senml', queueMode: false, objectLinks: ['</>;rt="oma.lwm2m";ct="110 112"', '/3/0'] });
      leshan.register({ endpoint: 'wf-10', queueMode: false, lwM2mVersion: '1.0' });
      await until(async () => (await api.call('GET', '/api/endpoints/wf-10')).body?.registered === true, 5000, 'registered');
      assert.equal(await writeFormatOf('wf-all'), 'TLV');
      assert.equal(await writeFormatOf('wf-senml'), 'SENML_CBOR');
      assert.equal(await writeFormatOf('wf-10'), 'TLV');
      // the double answers like a real client to a format it does not list: 4.15
      const direct = await fetch(`${leshan.url}/api/clients/wf-senml/3/0/15?format=TLV&timeout=5`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 15, kind: 'singleResource', type: 'STRING', value: 'Etc/UTC' }),
      });
      assert.equal(((await direct.json()) as { status: string }).status, 'UNSUPPORTED_CONTENT_FORMAT(415)');
    });

    it('learns it from the registration list too: a device that registered while the stream was down', async () => {
      await leshan.setDown(true);
      leshan.register({ endpoint: 'wf-missed', queueMode: false, objectLinks: ['</>;rt="oma.lwm2m";ct="110"', '/3/0'] });
      await leshan.setDown(false);
      await until(async () => (await api.call('GET', '/api/endpoints/wf-missed')).body?.registered === true, 15_000, 'reconciled');
      assert.equal(await writeFormatOf('wf-missed'), 'SENML_JSON');
    });
  });
});

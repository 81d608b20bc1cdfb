import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { defaultJars, generate, newer, newestVersions, OUTPUT, parseDdf, type DdfObject } from '../../scripts/generate-object-models.js';
import { dataLine } from '../../src/ingest/points.js';
import { objectModel, resourceModel, type ResourceModel } from '../../src/lwm2m/objectModel.js';

function has(objectId: number, resourceId: number, expected: Omit<ResourceModel, 'id'>): void {
  assert.deepEqual(resourceModel(objectId, resourceId), { id: resourceId, ...expected }, `${objectId}/${resourceId}`);
}

describe('OMA registry: objects beyond 0-7 and IPSO 3300-3350 (checked against their DDF files)', () => {
  it('3410 Device Extension', () => {
    const o = objectModel(3410);
    assert.equal(o?.name, 'Device Extension');
    assert.equal(o?.multiple, false);
    has(3410, 3, { name: 'User-given name', type: 'STRING', multiple: false, operations: 'RW' });
    has(3410, 5, { name: 'Installation date', type: 'TIME', multiple: false, operations: 'RW' });
    has(3410, 6, { name: 'Software update', type: 'BOOLEAN', multiple: false, operations: 'R' });
  });

  it('10262 Interval Data Delivery, a vendor-range object with multiple resources', () => {
    assert.equal(objectModel(10262)?.name, 'Interval Data Delivery');
    assert.equal(objectModel(10262)?.multiple, true);
    has(10262, 1, { name: 'Interval Data Links', type: 'OBJLNK', multiple: true, operations: 'RW' });
    has(10262, 2, { name: 'Latest Payload', type: 'OPAQUE', multiple: true, operations: 'R' });
  });

  it('18830 MQTT Broker and 3380 PrachReport (2.0)', () => {
    assert.equal(objectModel(18830)?.name, 'MQTT Broker');
    has(18830, 3, { name: 'Keep Alive', type: 'UNSIGNED_INTEGER', multiple: false, operations: 'RW' });
    assert.equal(objectModel(3380)?.name, 'PrachReport');
    assert.equal(objectModel(3380)?.version, '2.0');
  });

  it('keeps the newest version where versions disagree (10260 1.0 and 2.0 use 2 and 3 for other things)', () => {
    assert.equal(objectModel(10260)?.version, '2.0');
    has(10260, 2, { name: 'Exists', type: 'BOOLEAN', multiple: false, operations: 'RW' });
    has(10260, 3, { name: 'Persistent', type: 'BOOLEAN', multiple: false, operations: 'RW' });
  });

  it('trims the names the registry ends with a space', () => {
    for (const o of [objectModel(3410), objectModel(21), objectModel(3380)]) {
      assert.ok(o);
      for (const r of o.resources.values()) assert.equal(r.name, r.name.trim(), `${o.id}/${r.id}`);
    }
  });

  it('gives InfluxDB points of such objects their name tags', () => {
    const line = dataLine('d', { objectId: 3410, instanceId: 0, resourceId: 3, value: { type: 'STRING', value: 'pump' } }, '1');
    assert.equal(line, 'lwm2m,ep=d,inst=0,obj=3410,object=Device\\ Extension,res=3,resource=User-given\\ name,type=STRING string="pump" 1');
  });
});

describe('OMA registry: the generated module', () => {
  const jars = defaultJars();
  const present = jars.every((j) => existsSync(j));

  it(
    'is what the generator makes of the jars now (never edited by hand)',
    { skip: present ? false : `not cached: ${jars.join(', ')}` },
    async () => {
      const committed = readFileSync(OUTPUT, 'utf8');
      assert.ok(
        committed === (await generate(jars)),
        'src/lwm2m/generated/omaRegistry.ts differs: run npx tsx scripts/generate-object-models.ts',
      );
    },
  );
});

const ddf = (object: string, items: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!-- <Object> in a comment -->\n<LWM2M><Object ObjectType="MODefinition">${object}<Resources>${items}</Resources></Object></LWM2M>`;

const item = (id: number, fields: string): string => `<Item ID="${id}">${fields}</Item>`;

describe('OMA registry: the DDF reader', () => {
  it('reads names (entities decoded, trimmed), types as Leshan maps them, operations and multiplicity', () => {
    const [o] = parseDdf(
      ddf(
        '<Name>AT&amp;T  Extension </Name><Description1><![CDATA[<Name>not this</Name> & co]]></Description1><ObjectID>10300</ObjectID><ObjectVersion>1.2</ObjectVersion><MultipleInstances>Multiple</MultipleInstances>',
        item(
          1,
          '<Name>Reset</Name><Operations>E</Operations><MultipleInstances>Single</MultipleInstances><Type></Type><Description><![CDATA[a <b>]]></Description>',
        ) +
          item(
            0,
            '<Name>Rate &#60;1&gt;</Name><Operations>RW</Operations><MultipleInstances>Multiple</MultipleInstances><Type>Unsigned Integer</Type>',
          ) +
          item(2, '<Name>Link</Name><Operations/><MultipleInstances>Single</MultipleInstances><Type/>'),
      ),
      'x.xml',
    );
    assert.deepEqual(o, {
      id: 10300,
      name: 'AT&T  Extension',
      version: '1.2',
      multiple: true,
      file: 'x.xml',
      resources: [
        [0, 'Rate <1>', 'UNSIGNED_INTEGER', 'RW', true],
        [1, 'Reset', 'NONE', 'E', false],
        [2, 'Link', 'NONE', '', false],
      ],
    });
  });

  it('takes version 1.0 when the DDF has none', () => {
    const [o] = parseDdf(ddf('<Name>A</Name><ObjectID>7</ObjectID><MultipleInstances>Single</MultipleInstances>', ''), 'a.xml');
    assert.equal(o?.version, '1.0');
    assert.deepEqual(o?.resources, []);
  });

  it('refuses what it cannot read exactly', () => {
    const obj = '<Name>A</Name><ObjectID>7</ObjectID><MultipleInstances>Single</MultipleInstances>';
    const ok = '<Name>N</Name><Operations>R</Operations><MultipleInstances>Single</MultipleInstances>';
    assert.throws(() => parseDdf(ddf(obj, item(0, `${ok}<Type>Decimal</Type>`)), 'f.xml'), /unknown type "Decimal"/);
    assert.throws(
      () => parseDdf(ddf(obj, item(0, `${ok}<Type>String</Type>`) + item(0, `${ok}<Type>String</Type>`)), 'f.xml'),
      /defined twice/,
    );
    assert.throws(
      () => parseDdf(ddf(obj, item(0, '<Name>N</Name><MultipleInstances>Single</MultipleInstances><Type/>')), 'f.xml'),
      /0 <Operations>/,
    );
    assert.throws(() => parseDdf(ddf(obj, item(0, `${ok}<Type>String</Type>`.replace('>R<', '>RE<'))), 'f.xml'), /operations "RE"/);
    assert.throws(() => parseDdf(ddf(obj.replace('>7<', '>70000<'), ''), 'f.xml'), /not an LwM2M id/);
    assert.throws(() => parseDdf(ddf(obj, item(0, `<Name> </Name>${ok.slice(14)}<Type/>`)), 'f.xml'), /empty/);
    assert.throws(() => parseDdf('<LWM2M></LWM2M>', 'f.xml'), /no <Object>/);
  });

  it('keeps the newest version of each object, comparing versions as numbers', () => {
    assert.equal(newer('1.10', '1.9'), true);
    assert.equal(newer('2.0', '1.10'), true);
    assert.equal(newer('1.0', '1.0'), false);
    const v = (id: number, version: string, name = 'O'): DdfObject => ({
      id,
      name,
      version,
      multiple: false,
      resources: [],
      file: `${id}-${version}`,
    });
    assert.deepEqual(
      newestVersions([v(9, '1.0'), v(3, '1.10'), v(3, '1.9'), v(9, '2.0')]).map((o) => `${o.id}@${o.version}`),
      ['3@1.10', '9@2.0'],
    );
    assert.deepEqual(newestVersions([v(3, '1.1'), v(3, '1.1')]).length, 1, 'the same definition twice (two jars) is fine');
    assert.throws(() => newestVersions([v(3, '1.1', 'A'), v(3, '1.1', 'B')]), /differs between/);
  });
});

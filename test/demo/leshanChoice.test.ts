import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { chooseLeshan, javaPresent } from '../../demo/leshanChoice.js';
import { Narrator } from '../../demo/narration.js';

const narrator = (): { n: Narrator; text: () => string } => {
  let out = '';
  return { n: new Narrator((t) => (out += t)), text: () => out };
};

describe('which Leshan the demo runs (DEMO_LESHAN)', () => {
  it('double: the double, without looking for Java', () => {
    const { n, text } = narrator();
    assert.equal(chooseLeshan('double', n), 'double');
    assert.equal(text(), '');
  });

  it('auto without Java on the PATH: the double, and the narration says why', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'lwm2m-nojava-'));
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      assert.equal(javaPresent(), false);
      const { n, text } = narrator();
      assert.equal(chooseLeshan('auto', n), 'double');
      assert.match(text(), /Leshan: no Java here, so the demo runs the Leshan test double/);
    } finally {
      process.env.PATH = saved;
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('auto with Java and the jars cached: the real one, said with its versions', { skip: !javaPresent() && 'no Java here' }, () => {
    const { n, text } = narrator();
    assert.equal(chooseLeshan('auto', n), 'real');
    assert.match(text(), /Leshan: the real one \(demo server 2\.0\.0-M4, clients on Leshan's client library 2\.0\.0-M18\)/);
    assert.equal(process.env.LESHAN_NO_INSTALL, undefined, 'the demo does not leave its no-install flag behind');
  });
});

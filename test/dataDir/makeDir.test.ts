import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeDir } from '../../src/dataDir/makeDir.js';

describe('makeDir', () => {
  it('creates every missing level and accepts a directory that exists', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-makedir-'));
    try {
      const deep = path.join(dir, 'a', 'b', 'c');
      await makeDir(deep);
      assert.ok((await stat(deep)).isDirectory());
      await makeDir(deep);
      await writeFile(path.join(dir, 'f'), 'x');
      await assert.rejects(makeDir(path.join(dir, 'f', 'g')), { code: 'ENOTDIR' });
      await assert.rejects(makeDir(path.join(dir, 'f')), { code: 'ENOTDIR' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails under /proc, where a recursive mkdir never returns', async () => {
    await assert.rejects(makeDir('/proc/lwm2m-nope/a/b'), { code: 'ENOENT' });
  });
});

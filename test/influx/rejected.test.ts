import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RejectedLines } from '../../src/influx/rejected.js';
import { testLogger } from '../support/config.js';

describe('RejectedLines', () => {
  it('keeps each refused line after a comment saying why, and stays within about twice its cap, newest kept', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-rejected-'));
    try {
      const rejected = new RejectedLines(path.join(dir, 'rejected.lp'), 1000, testLogger());
      await rejected.add('m s="a\nb" 1', 'invalid', 'InfluxDB answered 400:\n{"error":"x"}');
      const text = await readFile(path.join(dir, 'rejected.lp'), 'utf8');
      assert.match(text, /^# \d{4}-\d\d-\d\dT[^ ]+ invalid: InfluxDB answered 400: \{"error":"x"\}\nm s="a\nb" 1\n$/);
      for (let i = 0; i < 100; i++) await rejected.add(`m v=${i}i ${i}`, 'unreadable_response', 'other side closed');
      assert.deepEqual((await readdir(dir)).sort(), ['rejected.1.lp', 'rejected.lp']);
      for (const f of ['rejected.lp', 'rejected.1.lp']) assert.ok((await stat(path.join(dir, f))).size <= 1000);
      assert.match(await readFile(path.join(dir, 'rejected.lp'), 'utf8'), /\nm v=99i 99\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

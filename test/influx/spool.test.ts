import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Spool } from '../../src/influx/spool.js';

const lines = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `m v=${from + i}i ${from + i}`);

async function drain(spool: Spool, max = 7): Promise<string[]> {
  const out: string[] = [];
  for (let batch = await spool.read(max); batch; batch = await spool.read(max)) {
    out.push(...batch.lines);
    await batch.ack();
  }
  return out;
}

describe('Spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lwm2m-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives lines back in the order appended, across segments, and deletes what is acknowledged', async () => {
    const spool = new Spool(dir, 1e6, 200);
    await spool.open();
    for (let i = 0; i < 10; i++) await spool.append(lines(i * 5, 5));
    assert.equal(spool.lines, 50);
    assert.ok((await readdir(dir)).length > 2, 'several segments');
    assert.deepEqual(await drain(spool), lines(0, 50));
    assert.equal(spool.lines, 0);
    assert.ok(spool.empty);
    await spool.close();
    assert.deepEqual(await readdir(dir), [], 'every segment is deleted once acknowledged');
  });

  it('keeps unacknowledged lines across a reopen, and rewind re-reads them', async () => {
    const first = new Spool(dir, 1e6, 1000);
    await first.open();
    await first.append(lines(0, 20));
    const batch = await first.read(8);
    assert.deepEqual(batch?.lines, lines(0, 8));
    first.rewind();
    const again = await first.read(8);
    assert.deepEqual(again?.lines, lines(0, 8), 'rewind goes back to the first unacknowledged line');
    await again!.ack();
    await first.close();

    const second = new Spool(dir, 1e6, 1000);
    await second.open();
    assert.equal(second.lines, 20, 'a segment is only deleted when all of it is acknowledged');
    assert.deepEqual(await drain(second), lines(0, 20));
  });

  it('ignores a torn last line left by a crash', async () => {
    const spool = new Spool(dir, 1e6, 1000);
    await spool.open();
    await spool.append(lines(0, 3));
    await spool.close();
    const [name] = await readdir(dir);
    await appendFile(path.join(dir, name!), 'm v=torn');
    const reopened = new Spool(dir, 1e6, 1000);
    await reopened.open();
    assert.deepEqual(await drain(reopened), lines(0, 3));
  });

  it('drops the oldest segments past the cap and counts their lines', async () => {
    let dropped = 0;
    const spool = new Spool(dir, 400, 150);
    spool.onDrop = (n) => (dropped += n);
    await spool.open();
    for (let i = 0; i < 20; i++) await spool.append(lines(i * 2, 2));
    assert.ok(spool.bytes <= 400, `spool holds ${spool.bytes} bytes`);
    const left = await drain(spool);
    assert.equal(left.length + dropped, 40, 'every line is either kept or counted as dropped');
    assert.ok(dropped > 0);
    assert.deepEqual(left, lines(40 - left.length, left.length), 'the newest lines are the ones kept');
  });
});

import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrames } from '../../src/dataDir/frames.js';
import { Spool, type SpoolDrop } from '../../src/influx/spool.js';
import { mountSmallDisk } from '../support/smallDisk.js';

const lines = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `m v=${from + i}i ${from + i}`);
/** Lines whose string values hold what a newline-separated file cannot: newlines, CR, NUL. */
const awkward = (from: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `m s="${from + i}\n\r\n\u0000 end\n" ${from + i}`);
const segments = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => /^\d+\.(spool|lp)$/.test(n)).sort();

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
    const spool = new Spool({ dir, maxBytes: 1e6, segmentBytes: 200 });
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

  it('keeps unacknowledged lines across a reopen; rewind re-reads them, a partial ack skips only what it names', async () => {
    const first = new Spool({ dir, maxBytes: 1e6, segmentBytes: 1000 });
    await first.open();
    await first.append(lines(0, 20));
    const batch = await first.read(8);
    assert.deepEqual(batch?.lines, lines(0, 8));
    first.rewind();
    const again = await first.read(8);
    assert.deepEqual(again?.lines, lines(0, 8), 'rewind goes back to the first unacknowledged line');
    await again!.ack(3);
    first.rewind();
    assert.deepEqual((await first.read(2))?.lines, lines(3, 2), 'after a partial ack the next read starts after it');
    await first.close();

    const second = new Spool({ dir, maxBytes: 1e6, segmentBytes: 1000 });
    await second.open();
    assert.equal(second.lines, 20, 'a segment is only deleted when all of it is acknowledged');
    assert.deepEqual(await drain(second), lines(0, 20));
  });

  it('keeps any character a value can hold (newline, CR, NUL, lone surrogate as U+FFFD), across a reopen', async () => {
    const values = [...awkward(0, 5), 'm s="\ud800" 1', 'm s="' + '\n'.repeat(1000) + '" 2', ''];
    const first = new Spool({ dir, maxBytes: 1e6 });
    await first.open();
    await first.append(values);
    await first.close();
    const second = new Spool({ dir, maxBytes: 1e6 });
    await second.open();
    assert.equal(second.lines, values.length);
    assert.deepEqual(
      await drain(second, 3),
      values.map((v) => v.replace('\ud800', '\ufffd')),
    );
  });

  it('cuts back a torn record a crash left at the end of a segment, at open, keeping every whole record', async () => {
    const first = new Spool({ dir, maxBytes: 1e6 });
    await first.open();
    await first.append(awkward(0, 3));
    await first.close();
    const [name] = await segments(dir);
    const file = path.join(dir, name!);
    const whole = (await stat(file)).size;
    const next = encodeFrames(awkward(3, 1));
    await appendFile(file, next.subarray(0, next.length - 5)); // the crash came before the last 5 bytes
    const drops: SpoolDrop[] = [];
    const reopened = new Spool({ dir, maxBytes: 1e6, onDrop: (d) => drops.push(d) });
    await reopened.open();
    assert.equal((await stat(file)).size, whole, 'the torn record is cut off the file');
    assert.deepEqual(reopened.damaged, { torn: 1, corrupt: 0 });
    assert.equal(drops.length, 1);
    await reopened.append(awkward(10, 2));
    assert.deepEqual(await drain(reopened), [...awkward(0, 3), ...awkward(10, 2)]);
  });

  it('keeps the records before a bad checksum, sets the rest aside in a .bad file, and goes on', async () => {
    const first = new Spool({ dir, maxBytes: 1e6 });
    await first.open();
    await first.append(awkward(0, 4));
    await first.append(awkward(4, 4));
    await first.close();
    const [name] = await segments(dir);
    const file = path.join(dir, name!);
    const buf = await readFile(file);
    assert.match(buf.toString(), /^# [0-9a-f]{8} [0-9a-f]{8}\nm s="0\n/, 'a header line, then the line as it is');
    const firstAppend = encodeFrames(awkward(0, 4)).length;
    buf[firstAppend + 25]! ^= 0x20; // flip a bit in the line of the first record of the second append
    await writeFile(file, buf);
    // and a whole segment of random bytes after it
    await writeFile(path.join(dir, '000000000005.spool'), randomBytes(10_000));
    const drops: SpoolDrop[] = [];
    const spool = new Spool({ dir, maxBytes: 1e6, onDrop: (d) => drops.push(d) });
    await spool.open();
    assert.equal(spool.lines, 4, 'the records before the damage');
    assert.deepEqual(spool.damaged, { torn: 0, corrupt: 2 }, 'both damaged segments counted');
    assert.equal(drops.length, 2);
    const bad = (await readdir(dir)).filter((n) => n.endsWith('.bad')).sort();
    assert.equal(bad.length, 2, 'the damaged bytes are kept aside');
    assert.ok(bad[0]!.startsWith(`${name!}.`));
    assert.deepEqual(await readFile(path.join(dir, bad[0]!)), buf.subarray(firstAppend), 'everything from the damage on');
    await spool.append(awkward(100, 3));
    assert.deepEqual(await drain(spool), [...awkward(0, 4), ...awkward(100, 3)]);
  });

  it('reads segments of the previous newline-separated format first, then the new ones', async () => {
    await writeFile(path.join(dir, '000000000001.lp'), `${lines(0, 3).join('\n')}\nm v=torn`);
    await writeFile(path.join(dir, '000000000002.lp'), `${lines(3, 2).join('\n')}\n`);
    await writeFile(path.join(dir, 'rejected.lp'), 'not a segment\n');
    const spool = new Spool({ dir, maxBytes: 1e6 });
    await spool.open();
    assert.equal(spool.lines, 5);
    await spool.append(lines(5, 2));
    assert.deepEqual(await drain(spool, 2), lines(0, 7));
    await spool.close();
    assert.deepEqual(await segments(dir), [], 'old segments deleted once replayed');
  });

  it('drops the oldest segments past the cap and tells onDrop (given at construction)', async () => {
    const drops: SpoolDrop[] = [];
    const spool = new Spool({ dir, maxBytes: 400, segmentBytes: 150, onDrop: (d) => drops.push(d) });
    await spool.open();
    for (let i = 0; i < 20; i++) await spool.append(lines(i * 2, 2));
    assert.ok(spool.bytes <= 400, `spool holds ${spool.bytes} bytes`);
    const dropped = drops.reduce((n, d) => n + d.lines, 0);
    assert.ok(drops.every((d) => d.reason === 'spool_full'));
    assert.equal(spool.droppedLines, dropped);
    const left = await drain(spool);
    assert.equal(left.length + dropped, 40, 'every line is either kept or counted as dropped');
    assert.ok(dropped > 0);
    assert.deepEqual(left, lines(40 - left.length, left.length), 'the newest lines are the ones kept');
  });

  it('survives kill -9 mid-append: reopened, it gives back exactly what was appended, in order, every acknowledged record', async () => {
    const spoolModule = fileURLToPath(new URL('../../src/influx/spool.ts', import.meta.url));
    const script = path.join(dir, 'appender.mts');
    const spoolDir = path.join(dir, 'spool');
    await writeFile(
      script,
      `import { Spool } from ${JSON.stringify(spoolModule)};
const spool = new Spool({ dir: ${JSON.stringify(spoolDir)}, maxBytes: 1e9, segmentBytes: 64 * 1024 });
await spool.open();
for (let i = 0; ; i += 50) {
  await spool.append(Array.from({ length: 50 }, (_, j) => 'm s="' + (i + j) + '\\n' + 'x'.repeat((i + j) % 300) + '" ' + (i + j)));
  process.stdout.write(String(i + 50) + '\\n');
}
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      const last = chunk.toString().trim().split('\n').at(-1);
      if (last) acked = Number(last);
    });
    let gone = false;
    const exited = new Promise((resolve) => child.once('exit', resolve)).then(() => (gone = true));
    while (acked < 2000 && !gone) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!gone, 'the appender was still running');
    child.kill('SIGKILL');
    await exited;
    const expected = (k: number): string => `m s="${k}\n${'x'.repeat(k % 300)}" ${k}`;
    const spool = new Spool({ dir: spoolDir, maxBytes: 1e9 });
    await spool.open();
    const got = await drain(spool, 1000);
    assert.ok(got.length >= acked, `every acknowledged record is there (${got.length} >= ${acked})`);
    got.forEach((l, k) => assert.equal(l, expected(k)));
    await spool.append(['after']);
    assert.deepEqual(await drain(spool), ['after']);
  });
});

describe('Spool on a full disk', () => {
  it('cuts back the torn record an append that failed half-way left, so the next append is read back whole', async (t) => {
    let disk;
    try {
      disk = await mountSmallDisk(256);
    } catch (err) {
      t.skip(String(err));
      return;
    }
    try {
      const dir = path.join(disk.dir, 'spool');
      const spool = new Spool({ dir, maxBytes: 1e9, segmentBytes: 1e9 });
      await spool.open();
      await spool.append(awkward(0, 10));
      const pad = path.join(disk.dir, 'pad');
      await writeFile(pad, Buffer.alloc(8192));
      await disk.fill();
      await unlink(pad); // two free pages: the next, larger append is cut short
      const big = Array.from({ length: 40 }, (_, i) => `m s="${'y'.repeat(1000)}\n" ${100 + i}`);
      await assert.rejects(spool.append(big), /ENOSPC/);
      await disk.free();
      await spool.append(awkward(20, 5));
      const [name] = await segments(dir);
      assert.equal((await stat(path.join(dir, name!))).size, spool.bytes, 'no torn bytes left in the file');
      assert.deepEqual(await drain(spool), [...awkward(0, 10), ...awkward(20, 5)]);
      await spool.close();
    } finally {
      await disk.unmount();
    }
  });
});

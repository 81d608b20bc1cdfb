/**
 * kill -9 against a real child process running the store (crashChild.ts): while creating, while sending and
 * settling, and while compacting all the time. Every acknowledged change survives; nothing is left SENDING.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { OperationStore } from '../../../src/operations/store.js';
import { openStore, tempDir } from './helpers.js';

/** Runs the child until it has acknowledged `acks` creates, kills it with SIGKILL, and returns what it acknowledged. */
async function runAndKill(file: string, acks: number, mode?: 'compact'): Promise<{ created: string[]; confirmed: string[] }> {
  const args = ['--import', 'tsx', fileURLToPath(new URL('./crashChild.ts', import.meta.url)), file, ...(mode ? [mode] : [])];
  const child = spawn(process.execPath, args, {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > acks) resolve();
    });
    child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const lines = out.split('\n').slice(1, -1); // after "ready", complete lines only
  return {
    created: lines.filter((l) => !l.startsWith('c ')),
    confirmed: lines.filter((l) => l.startsWith('c ')).map((l) => l.slice(2)),
  };
}

describe('OperationStore killed with SIGKILL', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>> | undefined;
  let store: OperationStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await tmp?.cleanup();
  });

  for (const mode of [undefined, 'compact'] as const) {
    it(`loses no acknowledged create or settle while creating and sending${mode ? ', compacting all the time' : ''}`, async () => {
      tmp = await tempDir();
      const { created, confirmed } = await runAndKill(tmp.file, 1500, mode);
      assert.ok(created.length >= 1000, `${created.length} acknowledged`);
      assert.ok(confirmed.length > 0, 'some settles were acknowledged');
      const snapshot = JSON.parse(await readFile(tmp.file, 'utf8')) as { seq: number; operations: unknown[] };
      if (mode) assert.ok(snapshot.seq > 0 && snapshot.operations.length > 0, 'the snapshot was rewritten while the child ran');
      store = await openStore(tmp.file);
      assert.deepEqual(
        created.filter((id) => store!.get(id) === undefined),
        [],
        'every acknowledged id survived',
      );
      assert.deepEqual(
        confirmed.filter((id) => store!.get(id)?.status !== 'CONFIRMED'),
        [],
        'every acknowledged settle survived',
      );
      assert.equal(store.countsByStatus().SENDING, 0);
      assert.ok(store.countsByStatus().QUEUED > 0);
    });
  }
});

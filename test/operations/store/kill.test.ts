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
async function runAndKill(
  file: string,
  acks: number,
  ...modes: ('compact' | 'firmware' | undefined)[]
): Promise<{ created: string[]; confirmed: string[]; steps: string[][]; campaigns: string[][] }> {
  const args = [
    '--import',
    'tsx',
    fileURLToPath(new URL('./crashChild.ts', import.meta.url)),
    file,
    ...modes.filter((m) => m !== undefined),
  ];
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
  const tagged = (tag: string) => lines.filter((l) => l.startsWith(`${tag} `)).map((l) => l.split(' ').slice(1));
  return {
    created: lines.filter((l) => /^[0-9]+$/.test(l)),
    confirmed: tagged('c').map(([id]) => id!),
    steps: tagged('f'),
    campaigns: tagged('k'),
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

    it(`loses no acknowledged firmware update step or campaign change${mode ? ', compacting all the time' : ''}`, async () => {
      tmp = await tempDir();
      const { created, steps, campaigns } = await runAndKill(tmp.file, 1500, mode, 'firmware');
      assert.ok(steps.length >= 40, `${steps.length} steps acknowledged`);
      if (mode) {
        const snapshot = JSON.parse(await readFile(tmp.file, 'utf8')) as { firmware?: { updates: unknown[]; campaigns: unknown[] } };
        assert.ok((snapshot.firmware?.updates.length ?? 0) > 0, 'updates were carried into a snapshot while the child ran');
      }
      store = await openStore(tmp.file);
      const lastAck = new Map<string, number>();
      for (const [id, seq] of steps) lastAck.set(id!, Math.max(lastAck.get(id!) ?? -1, Number(seq)));
      const behind = [...lastAck].filter(
        ([id, seq]) => (store!.getEntity<{ id: string; progress: { seq: number } }>('firmware', id)?.progress.seq ?? -1) < seq,
      );
      assert.deepEqual(behind, [], 'every update is at its last acknowledged step or later');
      const [campaignId, started] = campaigns.at(-1)!;
      assert.ok((store.getEntity<{ id: string; started: number }>('firmwareCampaign', campaignId!)?.started ?? -1) >= Number(started));
      assert.deepEqual(
        created.filter((id) => store!.get(id) === undefined),
        [],
        'and every acknowledged operation',
      );
      const next = store.takeEntityId('firmware');
      assert.ok(Number(next) > Math.max(...[...lastAck.keys()].map(Number)), `a new update id (${next}) is not one already used`);
    });
  }
});

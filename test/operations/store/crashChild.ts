/**
 * Child process for the kill -9 tests: creates operations without end, a few at a time, and prints each id
 * once its create has resolved (i.e. once it is acknowledged as durable). Every 5th one is also marked
 * SENDING without waiting, as the delivery does, and every 7th of those is then settled CONFIRMED (printed
 * as `c <id>` once acknowledged). With `compact`, the journal is folded into the snapshot all the time.
 * With `firmware`, each round also moves one of four firmware updates to its next step (`f <id> <seq>` once
 * acknowledged, `seq` the round; after `verifying` it is SUCCEEDED and a new one starts) and a campaign's
 * `started` to the round (`k <id> <started>`).
 * Usage: node --import tsx crashChild.ts FILE [compact] [firmware]
 */
import { OperationStore } from '../../../src/operations/store.js';

const compact = process.argv.slice(3).includes('compact');
const firmware = process.argv.slice(3).includes('firmware');
const STEPS = ['observing', 'writing_uri', 'downloading', 'updating', 'verifying'] as const;
const store = new OperationStore({
  file: process.argv[2]!,
  maxAttempts: 3,
  pruneAfterMs: 60_000,
  ...(compact && { compaction: { compactBytes: 8 * 1024, snapshotRatio: 0 } }),
});
await store.open();
process.stdout.write('ready\n');
const running: { id: string; step: number }[] = [];
const campaignId = store.takeEntityId('firmwareCampaign');
const at = new Date().toISOString();
/** The next step of one of the updates, stored; printed once acknowledged. */
async function firmwareStep(n: number): Promise<void> {
  let u = running[n % 4];
  if (!u || u.step === STEPS.length) u = running[n % 4] = { id: store.takeEntityId('firmware'), step: 0 };
  const done = u.step === STEPS.length - 1;
  const update = {
    id: u.id,
    ep: `dev-${n % 4}`,
    status: done ? 'SUCCEEDED' : 'RUNNING',
    step: STEPS[u.step],
    attempts: 1,
    campaignId,
    createdAt: at,
    updatedAt: new Date().toISOString(),
    progress: { seq: n, pending: { purpose: 'read_state', seq: n } },
  };
  u.step++;
  const campaign = { id: campaignId, endpoints: ['dev-0', 'dev-1', 'dev-2', 'dev-3'], started: n, createdAt: at };
  await Promise.all([
    store.putEntity('firmware', update).then(() => process.stdout.write(`f ${update.id} ${n}\n`)),
    store.putEntity('firmwareCampaign', campaign).then(() => process.stdout.write(`k ${campaignId} ${n}\n`)),
  ]);
}
for (let n = 0; ; n++) {
  const batch = Array.from({ length: 1 + (n % 16) }, (_, i) =>
    store.create({ ep: `dev-${i % 4}`, kind: 'write', path: '/5/0/1', value: `v${n}-${i}` }).then(async ({ operation }) => {
      process.stdout.write(`${operation.id}\n`);
      const id = Number(operation.id);
      if (id % 5 !== 0) return;
      store.markSending(operation.id);
      if (id % 7 !== 0) return;
      await store.flush();
      await store.settle(operation.id, { status: 'CONFIRMED', result: { code: 204 } });
      process.stdout.write(`c ${operation.id}\n`);
    }),
  );
  if (firmware) batch.push(firmwareStep(n));
  await Promise.all(batch);
}

/**
 * Child process for the kill -9 tests: creates operations without end, a few at a time, and prints each id
 * once its create has resolved (i.e. once it is acknowledged as durable). Every 5th one is also marked
 * SENDING without waiting, as the delivery does, and every 7th of those is then settled CONFIRMED (printed
 * as `c <id>` once acknowledged). With `compact`, the journal is folded into the snapshot all the time.
 * Usage: node --import tsx crashChild.ts FILE [compact]
 */
import { OperationStore } from '../../../src/operations/store.js';

const compact = process.argv[3] === 'compact';
const store = new OperationStore({
  file: process.argv[2]!,
  maxAttempts: 3,
  pruneAfterMs: 60_000,
  ...(compact && { compaction: { compactBytes: 8 * 1024, snapshotRatio: 0 } }),
});
await store.open();
process.stdout.write('ready\n');
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
  await Promise.all(batch);
}

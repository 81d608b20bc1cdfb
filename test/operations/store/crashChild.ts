/**
 * Child process for the kill -9 test: creates operations without end, a few at a time, and prints each id
 * once its create has resolved (i.e. once it is acknowledged as durable). Every 5th one is also marked
 * SENDING without waiting, as the delivery does. Usage: node --import tsx crashChild.ts FILE
 */
import { OperationStore } from '../../../src/operations/store.js';

const store = new OperationStore({ file: process.argv[2]!, maxAttempts: 3, pruneAfterMs: 60_000 });
await store.open();
process.stdout.write('ready\n');
for (let n = 0; ; n++) {
  const batch = Array.from({ length: 1 + (n % 16) }, (_, i) =>
    store.create({ ep: `dev-${i % 4}`, kind: 'write', path: '/5/0/1', value: `v${n}-${i}` }).then(({ operation }) => {
      process.stdout.write(`${operation.id}\n`);
      if (Number(operation.id) % 5 === 0) store.markSending(operation.id);
    }),
  );
  await Promise.all(batch);
}

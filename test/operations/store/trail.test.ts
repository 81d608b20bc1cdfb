import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { captureLog, openStore, tempDir } from './helpers.js';

describe("the operator's trail in the log", () => {
  it('is one info line per status change with ep, id, kind, path, status and attempts (the error when not confirmed)', async () => {
    const tmp = await tempDir();
    const log = captureLog();
    const store = await openStore(tmp.file, { log, maxAttempts: 2 });
    try {
      const { operation: a } = await store.create({ ep: 'dev1', kind: 'read', path: '/3/0/0' });
      store.markSending(a.id);
      await store.settle(a.id, { status: 'CONFIRMED', result: { status: 'CONTENT(205)', code: 205 } });
      const { operation: b } = await store.create({ ep: 'dev1', kind: 'write', path: '/5/0/1', type: 'STRING', value: 'coap://fw' });
      store.markSending(b.id);
      await store.settle(b.id, { status: 'QUEUED', error: 'device timeout' });
      store.markSending(b.id);
      await store.settle(b.id, { status: 'QUEUED', error: 'device timeout' });
      const { operation: c } = await store.create({ ep: 'dev2', kind: 'execute', path: '/3/0/4' });
      await store.cancel(c.id);
      const trail = log.lines.filter((l) => l.level === 'info' && /^operation [A-Z]+$/.test(l.msg ?? ''));
      assert.deepEqual(
        trail.map((l) => l.msg),
        [
          'operation QUEUED',
          'operation SENDING',
          'operation CONFIRMED',
          'operation QUEUED',
          'operation SENDING',
          'operation QUEUED',
          'operation SENDING',
          'operation FAILED',
          'operation QUEUED',
          'operation CANCELLED',
        ],
      );
      assert.deepEqual(trail[2]!.obj, { ep: 'dev1', id: a.id, kind: 'read', path: '/3/0/0', status: 'CONFIRMED', attempts: 1 });
      assert.deepEqual(trail[7]!.obj, {
        ep: 'dev1',
        id: b.id,
        kind: 'write',
        path: '/5/0/1',
        status: 'FAILED',
        attempts: 2,
        error: 'device timeout; maxAttempts reached',
      });
    } finally {
      await store.close();
      await tmp.cleanup();
    }
  });
});

/**
 * The driver alone: an in-memory repository and a fake operation store (operations created, ended by the
 * test), no daemon. What it turns machine requests into, and what it feeds back.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FirmwareDriver, type FirmwareOperations } from '../../src/firmware/driver.js';
import { MemoryFirmwareRepository } from '../../src/firmware/repository.js';
import type { CreateOperationInput, Operation, OperationStatus } from '../../src/operations/operation.js';

const noLog = { debug() {}, info() {}, warn() {}, error() {} };
const flush = () => new Promise((r) => setImmediate(r));

/** Operations by id; `end` settles one as delivery would (and tells the driver, as the assembly does). */
class FakeOperations implements FirmwareOperations {
  readonly ops = new Map<string, Operation>();
  driver!: FirmwareDriver;
  private next = 1;

  async create(input: CreateOperationInput): Promise<{ operation: Operation; replayed: boolean }> {
    const existing = [...this.ops.values()].find((o) => o.ep === input.ep && o.idempotencyKey === input.idempotencyKey);
    if (existing) return { operation: existing, replayed: true };
    const at = new Date().toISOString();
    const op: Operation = { ...input, id: String(this.next++), status: 'QUEUED', attempts: 0, createdAt: at, updatedAt: at } as Operation;
    this.ops.set(op.id, op);
    return { operation: op, replayed: false };
  }
  get(id: string): Operation | undefined {
    return this.ops.get(id);
  }
  async cancel(id: string): Promise<Operation> {
    return this.set(id, 'CANCELLED');
  }
  set(id: string, status: OperationStatus, extra: Partial<Operation> = {}): Operation {
    const op = { ...this.ops.get(id)!, status, ...extra };
    this.ops.set(id, op);
    return op;
  }
  /** The last operation at `path`. */
  last(path: string): Operation {
    return [...this.ops.values()].filter((o) => o.path === path).at(-1)!;
  }
  end(path: string, status: OperationStatus = 'CONFIRMED', extra: Partial<Operation> = {}): void {
    this.driver.operationChanged(this.set(this.last(path).id, status, extra));
  }
}

/** Drivers to stop after each test (their machines hold timeout timers). */
const drivers: FirmwareDriver[] = [];

function setup(repository = new MemoryFirmwareRepository(), operations = new FakeOperations()) {
  const queued: string[] = [];
  const driver = new FirmwareDriver({
    repository,
    operations,
    queued: (ep) => queued.push(ep),
    timeoutMs: 86_400_000,
    maxRetries: 1,
    log: noLog,
  });
  operations.driver = driver;
  drivers.push(driver);
  return { driver, operations, repository, queued };
}

describe('firmware driver', () => {
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.stop();
  });

  it('queues each request as an operation named after the update, and stores each step before its request', async () => {
    const { driver, operations, repository, queued } = setup();
    const { update } = await driver.start({ ep: 'dev1', uri: 'coap://fw/x.bin', version: '2' });
    await flush();
    const observe = operations.last('/5/0/3');
    assert.equal(observe.kind, 'observe');
    assert.equal(observe.idempotencyKey, `firmware:${update.id}:1:observe_state`);
    assert.deepEqual(queued, ['dev1']);
    operations.end('/5/0/3');
    await flush();
    operations.end('/5/0/5');
    await flush();
    assert.equal(repository.get(update.id)!.step, 'writing_uri');
    const write = operations.last('/5/0/1');
    assert.deepEqual([write.kind, write.value, write.type], ['write', 'coap://fw/x.bin', 'STRING']);
  });

  it('an operator cancelling the queued write: the sweep finds it, the update is FAILED', async () => {
    const { driver, operations, repository } = setup();
    const { update } = await driver.start({ ep: 'dev2', uri: 'coap://fw/x.bin', version: '2' });
    await flush();
    operations.end('/5/0/3');
    await flush();
    operations.end('/5/0/5');
    await flush();
    operations.set(operations.last('/5/0/1').id, 'CANCELLED'); // DELETE /api/operations/{id}: delivery never hears of it
    driver.sweep();
    await flush();
    const failed = repository.get(update.id)!;
    assert.equal(failed.status, 'FAILED');
    assert.match(failed.result!, /could not write the package URI to 5\/0\/1: CANCELLED/);
  });

  it('a registration while the execute is out waits for its outcome', async () => {
    const { driver, operations, repository } = setup();
    const { update } = await driver.start({ ep: 'dev3', uri: 'coap://fw/x.bin', version: '2' });
    await flush();
    for (const p of ['/5/0/3', '/5/0/5', '/5/0/1']) {
      operations.end(p);
      await flush();
    }
    driver.values('dev3', [{ objectId: 5, instanceId: 0, resourceId: 3, value: { type: 'INTEGER', value: '2' } }]);
    await flush();
    operations.set(operations.last('/5/0/2').id, 'SENDING');
    driver.registration('dev3', 'registered'); // the device rebooted before the answer was recorded
    await flush();
    assert.equal(repository.get(update.id)!.step, 'updating');
    operations.end('/5/0/2');
    await flush();
    assert.equal(repository.get(update.id)!.step, 'verifying');
  });

  /** Started on `ep`, observed and the URI written: downloading. */
  async function downloading(ep: string) {
    const t = setup();
    const { update } = await t.driver.start({ ep, uri: 'coap://fw/x.bin', version: '2' });
    await flush();
    for (const p of ['/5/0/3', '/5/0/5', '/5/0/1']) {
      t.operations.end(p);
      await flush();
    }
    assert.equal(t.repository.get(update.id)!.step, 'downloading');
    return { ...t, reads: () => [...t.operations.ops.values()].filter((o) => o.kind === 'read' && o.path === '/5/0/3') };
  }

  /** A read of 5/0/3 answering 1 (Downloading). */
  const stillDownloading = {
    result: { status: 'CONTENT(205)', code: 205, content: { kind: 'singleResource', id: 3, type: 'INTEGER', value: 1 } },
  } satisfies Partial<Operation>;

  it("a wake while the last wake's read of 5/0/3 is out: read again once its answer is in", async () => {
    const { driver, operations, reads } = await downloading('dev5');
    driver.registration('dev5', 'updated');
    await flush();
    assert.equal(reads().length, 1);
    operations.set(reads()[0]!.id, 'SENDING');
    driver.registration('dev5', 'updated'); // asleep and awake again before the answer was recorded
    await flush();
    assert.equal(reads().length, 1, 'not while the first is out');
    operations.end('/5/0/3', 'CONFIRMED', stillDownloading);
    await flush();
    assert.equal(reads().length, 2, 'read again for the second wake');
    assert.equal(reads()[1]!.status, 'QUEUED');
  });

  it("Leshan's AWAKE then UPDATED is one wake: one read", async () => {
    const { driver, operations, reads } = await downloading('dev6');
    driver.presence('dev6', true);
    await flush();
    operations.set(reads()[0]!.id, 'SENDING');
    driver.registration('dev6', 'updated');
    operations.end('/5/0/3', 'CONFIRMED', stillDownloading);
    await flush();
    assert.equal(reads().length, 1);
    driver.presence('dev6', false);
    driver.registration('dev6', 'updated'); // a later wake without AWAKE (it was missed): still a wake
    await flush();
    assert.equal(reads().length, 2);
  });

  it('resumed after a restart with its pending operation ended meanwhile: the outcome is taken at once', async () => {
    const repository = new MemoryFirmwareRepository();
    const operations = new FakeOperations();
    const first = setup(repository, operations);
    const { update } = await first.driver.start({ ep: 'dev4', uri: 'coap://fw/x.bin', version: '2' });
    await flush();
    await first.driver.stop();
    operations.set(operations.last('/5/0/3').id, 'CONFIRMED'); // settled while the daemon was down
    const second = setup(repository, operations);
    assert.equal(second.driver.resume(), 1);
    await flush();
    await flush();
    assert.equal(operations.ops.size, 2, 'the observation found again, not made twice; the next one made');
    assert.equal(operations.last('/5/0/5').idempotencyKey, `firmware:${update.id}:2:observe_result`);
  });
});

/** `npm run bench`: every benchmark, figures printed (nothing asserted). BENCH=ingest runs one. */
import { endpointsBench } from './endpoints.bench.js';
import { firmwareBench } from './firmware.bench.js';
import { fleetBench } from './fleet.bench.js';
import { idleBench } from './idle.bench.js';
import { ingestBench } from './ingest.bench.js';
import { memoryBench } from './memory.bench.js';
import { operationsBench } from './operations.bench.js';
import { storeBench } from './store.bench.js';

const benches: Record<string, () => Promise<void>> = {
  ingest: ingestBench,
  store: storeBench,
  endpoints: endpointsBench,
  operations: operationsBench,
  idle: idleBench,
  fleet: fleetBench,
  memory: memoryBench,
  firmware: firmwareBench,
};
const only = process.env.BENCH;
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  await run();
}

/** `npm run bench`: every benchmark, figures printed (nothing asserted). BENCH=ingest runs one. */
import { ingestBench } from './ingest.bench.js';

const benches: Record<string, () => Promise<void>> = { ingest: ingestBench };
const only = process.env.BENCH;
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  await run();
}

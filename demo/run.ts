/**
 * `npm run demo` (after the build): `node --import tsx demo/run.ts`. Runs until Ctrl-C, or for DEMO_SECONDS.
 * Everything else is in ./demo.ts; the DEMO_* variables are described in ./README.md.
 */
import { main } from './demo.js';

process.exitCode = await main();
// Exit now rather than when the last keep-alive socket to the daemon or InfluxDB times out.
process.exit();

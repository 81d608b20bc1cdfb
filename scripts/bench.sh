#!/usr/bin/env bash
# The benchmarks: builds the daemon (they run the compiled JavaScript, as systemd does) and prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-influxd.sh
npm run --silent build
exec node --expose-gc --import tsx bench/run.ts

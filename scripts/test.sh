#!/usr/bin/env bash
# The whole test suite: type check, then every test/**/*.test.ts under node:test through tsx.
# Installs what npm cannot: Debian's influxdb package, whose influxd the tests start on their own ports, and the
# real Leshan (a JDK, Maven and the jars from Maven Central, cached outside the repository) for test/e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-influxd.sh
bash scripts/ensure-leshan.sh
bash scripts/build-leshan-server.sh --test # this project's Leshan server (leshan-server/): the jar the e2e tests run, and its Java tests
npm run --silent typecheck
npm run --silent lint
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --expose-gc --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"

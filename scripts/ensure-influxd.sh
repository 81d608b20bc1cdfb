#!/usr/bin/env bash
# Makes sure `influxd` (InfluxDB 1.x from Debian's "influxdb" package) is installed, for tests and benchmarks.
set -euo pipefail
if [ -x /usr/bin/influxd ] || command -v influxd >/dev/null 2>&1; then exit 0; fi
echo "installing Debian's influxdb package (the tests run a real influxd)" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq influxdb >/dev/null
command -v influxd >/dev/null || { echo "influxd still missing after apt-get install influxdb" >&2; exit 1; }

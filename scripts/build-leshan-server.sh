#!/usr/bin/env bash
# Builds this project's own Leshan server (leshan-server/, docs/leshan-server.md) into one runnable jar:
#
#   leshan-server/target/lwm2m-leshan-server.jar      run it with: java -jar leshan-server/target/lwm2m-leshan-server.jar --help
#
# Installs Debian's JDK 17 and Maven with apt-get when missing. Maven's local repository is the cache that
# scripts/ensure-leshan.sh uses ($LESHAN_CACHE_DIR/m2, default ~/.cache/lwm2m-backend/leshan/m2); the first build
# downloads Leshan 2.0.0-M18, Jetty and Jackson from Maven Central, later ones run Maven offline. Idempotent: when the
# jar was built from the same pom and sources (a stamp of their SHA-256) it only prints the jar's path.
#   --test   also runs the Java tests (JUnit 5, 18 tests, 20-40 s), every time it is given; scripts/test.sh uses it.
# Maven's output goes to a log that is shown only when Maven fails.
set -euo pipefail
cd "$(dirname "$0")/.."
SELF=scripts/build-leshan-server.sh # "$0" may be relative to where it was started

RUN_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --test) RUN_TESTS=1 ;;
    -h | --help)
      sed -n '2,12p' "$SELF" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build-leshan-server: unknown argument $arg (--test, --help)" >&2
      exit 2
      ;;
  esac
done

PROJECT=leshan-server
JAR="$PROJECT/target/lwm2m-leshan-server.jar"
CACHE="${LESHAN_CACHE_DIR:-${HOME:-/root}/.cache/lwm2m-backend/leshan}"
STAMP="$PROJECT/target/build.stamp"
RESOLVED="$CACHE/leshan-server.resolved"

# What the jar is built from: this script, the pom and the main sources (tests do not change the jar).
build_hash() {
  { cat "$SELF" "$PROJECT/pom.xml"; find "$PROJECT/src/main" -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -d' ' -f1
}
pom_hash() {
  sha256sum "$PROJECT/pom.xml" | cut -d' ' -f1
}

want="$(build_hash)"
if [ "$RUN_TESTS" -eq 0 ] && [ -f "$JAR" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "leshan-server: $JAR (up to date)"
  exit 0
fi

source scripts/lib/java.sh # the cd above: paths are from the repository root
ensure_java_and_maven "to build leshan-server/"

mkdir -p "$CACHE/m2"
MVN_LOG="$CACHE/leshan-server-mvn.log"
# Offline once this pom's dependencies and plugins have been resolved (nothing to ask Maven Central then).
offline=()
if [ -f "$RESOLVED" ] && [ "$(cat "$RESOLVED")" = "$(pom_hash)" ]; then offline=(-o); fi
goals=(package)
if [ "$RUN_TESTS" -eq 0 ]; then goals+=(-DskipTests); fi
rm -rf "$PROJECT/target/surefire-reports" # the summary below counts this run's reports only

mvn_build() {
  mvn -B -q -Dstyle.color=never "$@" "-Dmaven.repo.local=$CACHE/m2" -f "$PROJECT/pom.xml" "${goals[@]}" >"$MVN_LOG" 2>&1
}
# offline first when resolved; once more online if that failed for want of something in the cache
if ! mvn_build "${offline[@]}" && { [ "${#offline[@]}" -eq 0 ] || ! grep -q "offline mode" "$MVN_LOG" || ! mvn_build; }; then
  cat "$MVN_LOG" >&2
  for report in "$PROJECT"/target/surefire-reports/*.txt; do
    [ -f "$report" ] && grep -q "FAILURE" "$report" && cat "$report" >&2
  done
  echo "build-leshan-server: mvn ${goals[*]} failed (log: $MVN_LOG)" >&2
  exit 1
fi
pom_hash >"$RESOLVED"
echo "$want" >"$STAMP"
if [ "$RUN_TESTS" -eq 1 ]; then
  summary="$(cat "$PROJECT"/target/surefire-reports/*.txt | grep -h '^Tests run' | awk -F'[:,]' '{ n += $2; f += $4 + $6 } END { print n " tests, " f " failed" }')"
  echo "leshan-server: Java tests passed ($summary)"
fi
echo "leshan-server: $JAR"

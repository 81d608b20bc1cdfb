#!/usr/bin/env bash
# Makes sure the real Eclipse Leshan pieces the end-to-end tests run (tools/realLeshan.ts) are on this
# machine, resolved with Maven from Maven Central into a cache outside the repository (nothing is committed):
#
#   server/leshan-server-demo-2.0.0-M4-jar-with-dependencies.jar
#       Leshan's own demo server (REST API + event stream). 2.0.0-M4 is the only version of a Leshan demo server
#       that Maven Central serves: leshan-server-demo 2.0.0-M15 and the renamed leshan-demo-server /
#       leshan-demo-client (2.0.0-M16 and later) are not published there (docs/leshan-demo.md).
#   client/lib/*.jar + client/classes/LeshanTestClient.class
#       Leshan's client library at the newest milestone on Maven Central (leshan-lwm2m-client and
#       leshan-tl-cf-client-coap 2.0.0-M18), with a small launcher of ours (tools/leshan-client/
#       LeshanTestClient.java) modelled on Leshan's demo client, as no Leshan demo client is published there.
#
# Installs Debian's JDK (javac compiles the launcher) and Maven when missing (unless LESHAN_NO_INSTALL is set: then
# it fails instead; `npm run demo` sets it when it only tries whether the real Leshan can run). Idempotent; once everything is
# cached (the stamp matches this script and the launcher source) it uses no network and takes milliseconds.
# The cache: $LESHAN_CACHE_DIR, default ~/.cache/lwm2m-backend/leshan. Prints what it resolved.
set -euo pipefail
cd "$(dirname "$0")/.."
SELF=scripts/ensure-leshan.sh # "$0" may be relative to where it was started

SERVER_VERSION=2.0.0-M4
CLIENT_VERSION=2.0.0-M18
SLF4J_VERSION=2.0.17
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
CLIENT_SOURCE=tools/leshan-client/LeshanTestClient.java

CACHE="${LESHAN_CACHE_DIR:-${HOME:-/root}/.cache/lwm2m-backend/leshan}"
SERVER_JAR="$CACHE/server/leshan-server-demo-$SERVER_VERSION-jar-with-dependencies.jar"
STAMP="$CACHE/stamp"

stamp_text() {
  { cat "$SELF" "$CLIENT_SOURCE"; } | sha256sum | cut -d' ' -f1
}

print_resolved() {
  echo "leshan: server $SERVER_JAR"
  echo "leshan: client $CACHE/client/classes/LeshanTestClient.class (Leshan client $CLIENT_VERSION, $(ls "$CACHE/client/lib" | wc -l) jars in $CACHE/client/lib)"
}

want="$(stamp_text)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f "$SERVER_JAR" ] && [ -f "$CACHE/client/classes/LeshanTestClient.class" ]; then
  print_resolved
  exit 0
fi

source scripts/lib/java.sh # the cd above: paths are from the repository root
ensure_java_and_maven "the end-to-end tests run the real Leshan"

mkdir -p "$CACHE/m2" "$CACHE/server" "$CACHE/client"
MVN_LOG="$CACHE/mvn.log"
# Maven's output goes to a log, shown only when it fails.
mvn_quiet() {
  if ! mvn -B -q -Dstyle.color=never "-Dmaven.repo.local=$CACHE/m2" "$@" >"$MVN_LOG" 2>&1; then
    cat "$MVN_LOG" >&2
    echo "ensure-leshan: mvn $* failed" >&2
    exit 1
  fi
}

# The demo server: one self-contained jar (the "jar-with-dependencies" classifier it is published with).
if [ ! -f "$SERVER_JAR" ]; then
  mvn_quiet "$DEPENDENCY_PLUGIN:copy" \
    "-Dartifact=org.eclipse.leshan:leshan-server-demo:$SERVER_VERSION:jar:jar-with-dependencies" \
    "-DoutputDirectory=$CACHE/server"
fi

# The client library and what it needs, copied into client/lib.
cat >"$CACHE/client/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lwm2m-backend.test</groupId>
  <artifactId>leshan-test-client</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.eclipse.leshan</groupId><artifactId>leshan-lwm2m-client</artifactId><version>$CLIENT_VERSION</version></dependency>
    <dependency><groupId>org.eclipse.leshan</groupId><artifactId>leshan-tl-cf-client-coap</artifactId><version>$CLIENT_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
rm -rf "$CACHE/client/lib"
mvn_quiet -f "$CACHE/client/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
  -DincludeScope=runtime "-DoutputDirectory=$CACHE/client/lib"

rm -rf "$CACHE/client/classes"
mkdir -p "$CACHE/client/classes"
javac -nowarn -d "$CACHE/client/classes" -cp "$CACHE/client/lib/*" "$CLIENT_SOURCE"

echo "$want" >"$STAMP"
print_resolved

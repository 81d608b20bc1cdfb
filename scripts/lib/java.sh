# Sourced by the scripts that need Java: ensure_java_and_maven REASON installs Debian's JDK 17 and Maven when
# java, javac or mvn is missing (as root, or with sudo), unless LESHAN_NO_INSTALL is set (then it fails).
ensure_java_and_maven() {
  if command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
    return 0
  fi
  if [ -n "${LESHAN_NO_INSTALL:-}" ]; then
    echo "java, javac or mvn is missing and LESHAN_NO_INSTALL is set: nothing installed" >&2
    exit 1
  fi
  echo "installing Debian's openjdk-17-jdk-headless and maven ($1)" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
  local tool
  for tool in java javac mvn; do
    command -v "$tool" >/dev/null || { echo "$tool still missing after apt-get install" >&2; exit 1; }
  done
}

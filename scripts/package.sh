#!/usr/bin/env bash
# npm run package [-- OUT_DIR]          (PACKAGE_REF=<commit> npm run package: that commit's files, see below)
#
# Builds what a gateway installs, on a build machine of the gateway's architecture and Node major
# (the optional native addon unix-dgram, needed for sd_notify, is compiled here):
#   OUT_DIR/lwm2m-backend-<version>/           the release tree: dist/, config/default.json, package.json,
#                                              production node_modules, the unit, an example config, Grafana files
#   OUT_DIR/lwm2m-backend_<version>_<arch>.deb  the same as a Debian package
# OUT_DIR defaults to ./release. Needs node, npm, dpkg-deb; a C++ toolchain (python3 make g++) for the addon.
# Then on the gateway: apt install ./lwm2m-backend_<version>_<arch>.deb
# Progress and tool output go to stderr; stdout is the path of the .deb.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/release}" && cd "${1:-$ROOT/release}" && pwd)"
NAME=lwm2m-backend
ARCH="$(dpkg --print-architecture)"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
MAINTAINER="${DEBFULLNAME:-lwm2m-backend maintainers} <${DEBEMAIL:-lwm2m-backend@example.org}>"
# Files get this time (the last commit's), so two builds of one commit give the same tree.
EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}"

# PACKAGE_REF=<commit>: build that commit's files (git archive), not the working tree's, e.g. for a
# release from a tag, or so that uncommitted work in the checkout stays out. node_modules is the checkout's.
SRC="$ROOT"
DESCRIBE="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'a source tree')"
if [ -n "${PACKAGE_REF:-}" ]; then
  SRC="$OUT/source"
  rm -rf "$SRC" && mkdir -p "$SRC"
  git -C "$ROOT" archive "$PACKAGE_REF" | tar -x -C "$SRC"
  ln -s "$ROOT/node_modules" "$SRC/node_modules"
  DESCRIBE="$(git -C "$ROOT" describe --always "$PACKAGE_REF")"
  EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct "$PACKAGE_REF")}"
fi

VERSION="$(node -p "require('$SRC/package.json').version")"

say() { printf '== [%3ds] %s\n' "$SECONDS" "$*" >&2; }

RELEASE="$OUT/$NAME-$VERSION"
say "release tree $RELEASE"
rm -rf "$RELEASE"
mkdir -p "$RELEASE/config" "$RELEASE/systemd" "$RELEASE/grafana"
say "compile (tsc -p tsconfig.build.json, into the release tree: the checkout's dist/ is left alone)"
(cd "$SRC" && npx --no-install tsc -p tsconfig.build.json --outDir "$RELEASE/dist" --sourceMap false) >&2
cp "$SRC/package.json" "$SRC/package-lock.json" "$RELEASE/"
cp "$SRC/config/default.json" "$RELEASE/config/"
cp "$SRC/packaging/config.json" "$RELEASE/config/example.json"
cp "$SRC/systemd/lwm2m-backend.service" "$SRC/systemd/README.md" "$RELEASE/systemd/"
cp -r "$SRC/config/grafana/." "$RELEASE/grafana/"

say "production dependencies (npm ci --omit=dev)"
# --prefer-offline: the build machine's npm cache is enough once `npm ci` ran in the checkout.
(cd "$RELEASE" && npm ci --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error) >&2
# Keep only what runs: the addon's compiled module, not its build tree (which records build paths).
DGRAM="$RELEASE/node_modules/unix-dgram"
if [ -f "$DGRAM/build/Release/unix_dgram.node" ]; then
  find "$DGRAM/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$DGRAM/build/Release" -mindepth 1 ! -name unix_dgram.node -exec rm -rf {} +
  rm -rf "$DGRAM/src"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$DGRAM/build/Release/unix_dgram.node"
else
  say "WARNING: unix-dgram was not built (no C++ toolchain?): the daemon cannot send sd_notify READY=1," \
    "and systemd (Type=notify) would restart it over and over. Install python3 make g++ and run again."
  exit 1
fi
rm -rf "$RELEASE/node_modules/.bin" "$RELEASE/node_modules/.package-lock.json"
# What the published modules carry for their own development (tests, CI, linter configs, a docsify page).
for pkg in "$RELEASE"/node_modules/*/ "$RELEASE"/node_modules/@*/*/; do
  (cd "$pkg" && rm -rf test tests __tests__ benchmark benchmarks example examples .github .husky ./*.html)
done
find "$RELEASE/node_modules" \( -name '.eslintrc*' -o -name .npmignore -o -name .gitattributes -o -name .editorconfig \
  -o -name '.nycrc*' -o -name .travis.yml -o -name '.taprc*' -o -name '.prettierrc*' \) -exec rm -rf {} +
# npm packages carry files of every mode; a package wants 0644 files, 0755 directories and scripts.
find "$RELEASE" -type d -exec chmod 0755 {} +
find "$RELEASE" -type f -exec chmod 0644 {} +
find "$RELEASE/node_modules" -type f -print0 | xargs -0 awk 'FNR == 1 && /^#!/ { print FILENAME } { nextfile }' | xargs -r chmod 0755

say "Debian package"
STAGE="$OUT/deb-root"
rm -rf "$STAGE"
LIB="$STAGE/usr/lib/$NAME"
DOC="$STAGE/usr/share/doc/$NAME"
SHARE="$STAGE/usr/share/$NAME"
mkdir -p "$LIB/config" "$STAGE/etc/$NAME" "$STAGE/lib/systemd/system" "$DOC" "$SHARE" "$STAGE/DEBIAN"
cp -r "$RELEASE/dist" "$RELEASE/node_modules" "$RELEASE/package.json" "$LIB/"
cp "$RELEASE/config/default.json" "$LIB/config/"
install -m 0644 "$SRC/packaging/config.json" "$STAGE/etc/$NAME/config.json"
install -m 0644 "$SRC/systemd/lwm2m-backend.service" "$STAGE/lib/systemd/system/"
# Grafana: dashboards where the provisioning file's provider path points, provisioning files beside them
mkdir -p "$SHARE/grafana/dashboards" "$SHARE/grafana/provisioning"
install -m 0644 "$SRC"/config/grafana/*.json "$SHARE/grafana/dashboards/"
cp -r "$SRC/config/grafana/provisioning/." "$SHARE/grafana/provisioning/"
install -m 0644 "$SRC/README.md" "$DOC/README.md"
install -m 0644 "$SRC/systemd/README.md" "$DOC/README.systemd.md"
install -m 0644 "$SRC/config/grafana/README.md" "$DOC/README.grafana.md"
install -m 0644 "$SRC/packaging/debian/copyright" "$DOC/copyright"
{
  printf '%s (%s) unstable; urgency=medium\n\n' "$NAME" "$VERSION"
  printf '  * Release %s built from %s.\n\n' "$VERSION" "$DESCRIBE"
  printf ' -- %s  %s\n' "$MAINTAINER" "$(date -u -R -d "@$EPOCH")"
} | gzip -9n >"$DOC/changelog.gz"
for script in postinst prerm postrm; do install -m 0755 "$SRC/packaging/debian/$script" "$STAGE/DEBIAN/"; done
install -m 0644 "$SRC/packaging/debian/conffiles" "$STAGE/DEBIAN/"
find "$STAGE" -type d -exec chmod 0755 {} +
# The addon is built against this Node's ABI (NODE_MODULE_VERSION): any other major fails to load it.
# It links libc (GLIBC symbol versions below) and nothing else.
GLIBC="$(objdump -T "$LIB/node_modules/unix-dgram/build/Release/unix_dgram.node" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
DEPENDS="nodejs (>= $NODE_MAJOR), nodejs (<< $((NODE_MAJOR + 1))), libc6 (>= $GLIBC)"
INSTALLED_SIZE="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@MAINTAINER@/$MAINTAINER/" \
  -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
  "$SRC/packaging/debian/control" >"$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$STAGE/DEBIAN/md5sums" "$STAGE/DEBIAN/control"
find "$STAGE" -exec touch -h -d "@$EPOCH" {} +

DEB="$OUT/${NAME}_${VERSION}_${ARCH}.deb"
rm -f "$DEB"
SOURCE_DATE_EPOCH="$EPOCH" dpkg-deb --build --root-owner-group -Zgzip "$STAGE" "$DEB" >&2
rm -rf "$STAGE"
[ "$SRC" = "$ROOT" ] || rm -rf "$SRC"
say "built $DEB ($(du -h "$DEB" | cut -f1)) and $RELEASE"
echo "$DEB"

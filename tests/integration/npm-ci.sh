#!/usr/bin/env bash
# Installs the npm packages pinned in PACKAGE_DIR/package-lock.json into CACHE_DIR/node_modules, for
# the tests that drive Outpost through npm libraries (sdk/, jose/).
#
#   bash tests/integration/npm-ci.sh PACKAGE_DIR CACHE_DIR
#
# `npm ci` runs only when the lock file differs from the one last installed in CACHE_DIR (or the
# install is incomplete); a lock on CACHE_DIR serialises concurrent runs. The first run needs the npm
# registry; when it cannot be reached this fails with npm's error, and the tests that need the
# packages fail with it (they never skip).
# Exit code: 0 installed (or already up to date), 1 a step failed, 2 bad usage.
set -euo pipefail

if (( $# != 2 )) || [[ ! -f "$1/package.json" || ! -f "$1/package-lock.json" ]]; then
    echo "usage: $0 PACKAGE_DIR CACHE_DIR   (PACKAGE_DIR holds package.json and package-lock.json)" >&2
    exit 2
fi
src="$(cd "$1" && pwd)"
cache="$2"
for tool in node npm flock timeout cmp; do
    command -v "$tool" >/dev/null || { echo "npm-ci.sh: '$tool' is not installed" >&2; exit 1; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 18 )); then
    echo "npm-ci.sh: Node >= 18 is needed; found $(node --version)" >&2
    exit 1
fi

mkdir -p "$cache"
(
    flock -w 300 9 || { echo "npm-ci.sh: timed out waiting for $cache/.lock" >&2; exit 1; }
    # npm ci writes node_modules/.package-lock.json last; without it the install did not finish.
    if ! cmp -s "$src/package-lock.json" "$cache/.installed-lock" \
        || [[ ! -f "$cache/node_modules/.package-lock.json" ]]; then
        rm -f "$cache/.installed-lock"
        cp "$src/package.json" "$src/package-lock.json" "$cache/"
        echo "npm-ci.sh: npm ci in $cache"
        if ! (cd "$cache" && timeout 300 npm ci --no-audit --no-fund --loglevel=error); then
            echo "npm-ci.sh: 'npm ci' failed in $cache: the packages pinned in $src/package-lock.json" \
                "could not be installed (is the npm registry reachable?)" >&2
            exit 1
        fi
        cp "$src/package-lock.json" "$cache/.installed-lock"
    fi
) 9>"$cache/.lock"

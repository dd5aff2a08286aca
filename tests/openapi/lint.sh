#!/usr/bin/env bash
# Lints an OpenAPI document with the pinned linters of this directory (package.json and
# package-lock.json): `redocly lint` (redocly.yaml) and `spectral lint` (.spectral.yaml). Fails when
# either reports an error; warnings are printed and pass.
#
#   lint.sh DOCUMENT.json
#   lint.sh --generate TST_OPENAPI DOCUMENT.json   # first writes the document with tst_openapi
#
# The linters are installed with `npm ci` into $OPENAPI_NODE_DIR (default: openapi-node beside the
# document, in the build tree), never into the source tree, and reused while package.json and
# package-lock.json are unchanged. Needs Node.js >= 18.19 and npm, and the npm registry for the first
# install only: both rulesets are built in, nothing else is fetched.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    echo "usage: $0 [--generate TST_OPENAPI] DOCUMENT.json" >&2
    exit 2
}

if [[ ${1-} == --generate ]]; then
    [[ $# -eq 3 ]] || usage
    OPENAPI_OUT=$3 "$2" -silent
    shift 2
fi
[[ $# -eq 1 ]] || usage
document=$(realpath "$1")
[[ -s $document ]] || { echo "lint.sh: no document at $document" >&2; exit 2; }

command -v node >/dev/null && command -v npm >/dev/null || { echo "lint.sh: needs node and npm" >&2; exit 2; }
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a == 18 && b >= 19) ? 0 : 1)'; then
    echo "lint.sh: needs Node.js >= 18.19, found $(node --version)" >&2
    exit 2
fi

node_dir=${OPENAPI_NODE_DIR:-$(dirname "$document")/openapi-node}
stamp=$node_dir/installed.stamp
if ! cat "$here/package.json" "$here/package-lock.json" | cmp -s - "$stamp"; then
    echo "lint.sh: installing the linters into $node_dir"
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    # --ignore-scripts: no install script is needed, and two of them only report usage.
    (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    cat "$here/package.json" "$here/package-lock.json" >"$stamp"
fi

# No telemetry, no update checks: the linters must not reach the network.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true SCARF_ANALYTICS=false DO_NOT_TRACK=1
bin=$node_dir/node_modules/.bin
status=0
echo "== redocly lint ($("$bin/redocly" --version))"
"$bin/redocly" lint --config "$here/redocly.yaml" "$document" || status=1
echo "== spectral lint ($("$bin/spectral" --version))"
"$bin/spectral" lint --ruleset "$here/.spectral.yaml" --fail-severity error "$document" || status=1
[[ $status -eq 0 ]] && echo "lint.sh: no errors" || echo "lint.sh: errors above" >&2
exit $status

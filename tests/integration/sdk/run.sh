#!/usr/bin/env bash
# The PocketBase JS SDK suite: drives a real `outpostd` through the official `pocketbase` npm
# package (pinned in package-lock.json), the way an app written for PocketBase would.
#
#   OUTPOSTD=build/dev/app/outpostd bash tests/integration/sdk/run.sh [CACHE_DIR]
#
# CACHE_DIR (or $OUTPOST_SDK_CACHE) holds node_modules; ctest passes build/<preset>/tests/integration/sdk-node.
# ../npm-ci.sh runs `npm ci` only when package-lock.json changed. Each run gets a fresh data directory and a
# superuser, serves on 127.0.0.1:0, and stops the server at exit whatever happens. Needs Node >= 18
# (node:test, global fetch) and npm; the first run needs the npm registry.
# Exit code: 0 all tests passed, 1 a test or a step failed, 2 bad usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${1:-${OUTPOST_SDK_CACHE:-}}"
if [[ -z "$cache" ]]; then
    echo "usage: OUTPOSTD=path/to/outpostd $0 CACHE_DIR   (or set OUTPOST_SDK_CACHE)" >&2
    exit 2
fi
if [[ -z "${OUTPOSTD:-}" || ! -x "$OUTPOSTD" ]]; then
    echo "run.sh: OUTPOSTD must name the outpostd executable (got '${OUTPOSTD:-}')" >&2
    exit 2
fi
for tool in node npm flock timeout; do
    command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is not installed" >&2; exit 1; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 18 )); then
    echo "run.sh: Node >= 18 is needed (node:test, fetch); found $(node --version)" >&2
    exit 1
fi

# Nothing from the caller's Outpost configuration reaches the server.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^OUTPOST_' || true)

work="$(mktemp -d "${TMPDIR:-/tmp}/outpost-sdk.XXXXXX")"
server_pid=""
suite_pid=""
cleanup() {
    local status=$?
    [[ -n "$suite_pid" ]] && kill -TERM "$suite_pid" 2>/dev/null || true
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do # up to 10 s for a clean stop, then SIGKILL
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if (( status != 0 )) && [[ -s "$work/server.err" ]]; then
        echo "--- outpostd stderr (last 50 lines) ---" >&2
        tail -n 50 "$work/server.err" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. Dependencies, installed once per lock file.
bash "$here/../npm-ci.sh" "$here" "$cache"
cp "$here/sdk.test.mjs" "$cache/sdk.test.mjs" # imports resolve from the file's directory

# 2. A fresh data directory with one superuser.
data="$work/data"
email="sdk@example.com"
password="sdk-suite-$RANDOM-$RANDOM-passphrase"
export HOME="$work/home" XDG_DATA_HOME="$work/xdg" # npm already ran; the server sees nothing of ours
mkdir -p "$HOME"
printf '%s\n' "$password" | timeout 30 "$OUTPOSTD" superuser create "$email" --data-dir "$data" >"$work/create.out"

# 3. The server on a free port; its banner says where: "  API:  http://127.0.0.1:PORT  (N network threads)".
"$OUTPOSTD" serve --data-dir "$data" --listen 127.0.0.1:0 --threads 2 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=""
for _ in $(seq 1 150); do # 15 s
    url="$(sed -nE 's#^  API:  (http://127\.0\.0\.1:[0-9]+)  .*#\1#p' "$work/server.out" | head -n 1)"
    [[ -n "$url" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: outpostd exited before listening:" >&2
        cat "$work/server.out" >&2
        exit 1
    fi
    sleep 0.1
done
[[ -n "$url" ]] || { echo "run.sh: outpostd did not report its address within 15 s" >&2; exit 1; }

timeout 20 node -e '
    const url = process.argv[1] + "/api/health";
    const deadline = Date.now() + 15000;
    (async () => {
        while (Date.now() < deadline) {
            try {
                const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
                if (r.status === 200) return;
            } catch {}
            await new Promise((ok) => setTimeout(ok, 100));
        }
        console.error("run.sh: " + url + " did not answer 200 within 15 s");
        process.exit(1);
    })();
' "$url"
echo "run.sh: outpostd at $url (pid $server_pid), node $(node --version)"

# 4. The suite. --test-reporter exists from Node 18.15/19.6; older ones use their default.
reporter=()
if node --test-reporter=spec -e '' >/dev/null 2>&1; then
    reporter=(--test-reporter=spec)
fi
# In the background so that a signal to this script runs the cleanup at once.
cd "$cache"
OUTPOST_URL="$url" OUTPOST_EMAIL="$email" OUTPOST_PASSWORD="$password" \
    timeout 480 node --test "${reporter[@]}" sdk.test.mjs &
suite_pid=$!
wait "$suite_pid"

#!/usr/bin/env bash
# Instructions per request for GET /api/health, counted by callgrind (independent of machine load).
#
#   bash tests/bench/http_profile.sh            # wrk's minimal request (Host only)
#   HEADERS=browser bash tests/bench/http_profile.sh   # + 9 browser-like header fields (~530-byte head)
#
# Builds outpostd RelWithDebInfo without tests and UI in build/bench-prof, runs it under
# `valgrind --tool=callgrind` with instrumentation switched on only while `wrk -t1 -c8` runs, and
# prints total instructions (Ir) / requests plus the most expensive functions per request.
# The profile is kept (path printed at the end) for `callgrind_annotate --inclusive=yes --tree=calling`.
#
# Environment: DURATION=5 (seconds of load), OUTPOSTD=path (profile this binary, no build),
# HEADERS=browser, TOP=30 (functions listed).
set -uo pipefail

DURATION=${DURATION:-5}
TOP=${TOP:-30}
HEADERS=${HEADERS:-}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=$ROOT/build/bench-prof
OUTPOSTD=${OUTPOSTD:-}

die() { echo "http_profile: $*" >&2; exit 1; }
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 1 || DURATION > 60)); then die "DURATION must be 1..60"; fi
[[ $TOP =~ ^[0-9]+$ ]] || die "TOP must be a whole number"

missing=()
for tool in valgrind wrk curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null || die "apt-get install failed"
    else
        die "missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}"
    fi
fi

if [[ -z $OUTPOSTD ]]; then
    echo "Building $BUILD_DIR (RelWithDebInfo, no tests, no UI) ..."
    if ! cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTPOST_BUILD_TESTS=OFF \
        -DOUTPOST_BUILD_UI=OFF >/dev/null || ! cmake --build "$BUILD_DIR" --target outpostd >/dev/null; then
        die "build failed"
    fi
    OUTPOSTD=$BUILD_DIR/app/outpostd
fi
[[ -x $OUTPOSTD ]] || die "no outpostd at $OUTPOSTD"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-prof.XXXXXX") || die "mktemp failed"
PID=""
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
    local i
    if [[ -n $PID ]]; then
        kill -TERM "$PID" 2>/dev/null
        for ((i = 0; i < 100; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=""
for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! { exec {fd}<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then PORT=$p; break; fi
    exec {fd}>&-
done
[[ -n $PORT ]] || die "no free port found"

OUT=${TMPDIR:-/tmp}/outpost-callgrind.$(date +%Y%m%d-%H%M%S).out
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" \
    "$OUTPOSTD" serve --data-dir "$TMP/data" --listen "127.0.0.1:$PORT" >"$TMP/log" 2>&1 &
PID=$!
URL=http://127.0.0.1:$PORT/api/health
for ((i = 0; i < 600; i++)); do # up to 60 s: start-up under valgrind is slow
    [[ $(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL") == 200 ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/log" >&2; die "outpostd exited"; }
    sleep 0.1
done
for ((i = 0; i < 3; i++)); do curl -s -m 5 -o /dev/null "$URL"; done # first-request set-up, not measured

WRK_HEADERS=()
if [[ $HEADERS == browser ]]; then
    WRK_HEADERS=(
        -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
        -H 'Accept: application/json, text/plain, */*'
        -H 'Accept-Language: en-GB,en;q=0.7,de;q=0.3'
        -H 'Accept-Encoding: gzip, deflate, br, zstd'
        -H 'Referer: http://127.0.0.1:8090/_/'
        -H 'Sec-Fetch-Dest: empty'
        -H 'Sec-Fetch-Mode: cors'
        -H 'Sec-Fetch-Site: same-origin'
        -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjoxNzAwMDAwMDAwfQ.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
    )
fi
callgrind_control -i on "$PID" >/dev/null || die "callgrind_control failed"
wrk -t1 -c8 -d"${DURATION}s" "${WRK_HEADERS[@]}" "$URL" >"$TMP/wrk.txt" 2>&1
callgrind_control -i off "$PID" >/dev/null
kill -TERM "$PID" 2>/dev/null
for ((i = 0; i < 300; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" 2>/dev/null
PID=""

REQUESTS=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
grep -q "Non-2xx" "$TMP/wrk.txt" && echo "WARNING: some responses were not 2xx" >&2
[[ -n $REQUESTS && $REQUESTS -gt 0 ]] || { cat "$TMP/wrk.txt" >&2; die "no requests completed"; }
TOTAL=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')

echo "== callgrind: GET /api/health, wrk -t1 -c8 -d${DURATION}s${HEADERS:+ (headers: $HEADERS)}, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
echo "requests: $REQUESTS   instructions: $TOTAL   instructions per request: $((TOTAL / REQUESTS))"
echo
per_request() { # callgrind_annotate output on stdin -> "Ir/request  function", first $TOP matching $1
    awk -v n="$REQUESTS" -v top="$TOP" -v want="$1" '
        /^ *[0-9,]+ +\([ 0-9.]+%\) +[^ ]/ && !/PROGRAM TOTALS/ {
            ir = $1; gsub(",", "", ir);
            name = $0; sub(/^ *[0-9,]+ +\([ 0-9.]+%\) +/, "", name); sub(/ \[[^]]*\]$/, "", name);
            if (name !~ want) next;
            printf "%9.0f  %s\n", ir / n, substr(name, 1, 150);
            if (++shown >= top) exit }'
}
echo "Inclusive, per request: our code and the main library calls under it (top $TOP):"
callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null \
    | per_request 'Outpost::|sqlite3_(step|reset)|QIODevice::read\(|QUrl::|QHttpHeaderParser::|QJson|0x0000000000019920 .*HttpServer|HttpServer.*0x0000000000019920'
echo
echo "Exclusive (self), per request (top $TOP):"
callgrind_annotate "$OUT" 2>/dev/null | per_request '.'
echo
echo "profile: $OUT"

#!/usr/bin/env bash
# Outpost record API benchmark, side by side with nginx serving a static copy of a record (the
# ceiling for a tiny HTTP response on this machine). Everything runs on 127.0.0.1 only.
#
#   bash tests/bench/data_bench.sh
#
#   W1  GET one record by id (ids drawn at random from 1,000), public view rule
#   W1k W1 sent with an API key (X-API-Key, scope records:read:bench): the cost of key authentication
#   W2  GET a page of 20 of ROWS records: filter on an indexed field, sort on the index's second
#       column, total included (filter=category='cNN'&sort=-score&perPage=20; 100 categories)
#   W3  POST one record (default durability: synchronous=FULL, group commit)
#   nginx  GET a static file holding a W1 response body
#
# Environment (all optional):
#   ROWS=100000      records seeded before the runs (through POST /api/batch, 50 per request)
#   DURATION=10      seconds per measured wrk run
#   ROUNDS=3         rounds; each round runs W1, W2, W3 and nginx once
#   WARMUP=2         seconds of unmeasured load before each measured run
#   CONNECTIONS=64   wrk connections (-c)
#   WRK_THREADS=2    wrk threads (-t)
#   OUTPOST_THREADS  network threads for outpostd (default: its own default, the number of cores)
#   BUILD=0          skip the Release build and use the existing build/release/app/outpostd
#   OUTPOSTD=path    benchmark this outpostd binary instead (implies BUILD=0)
#   KEEP_TMP=1       keep the temporary directory (data, logs, raw wrk output)
#   PROFILE=1        after the rounds, sample outpostd with `perf record -g` during one more W1 and
#                    W3 run each and print the hottest symbols (self time) and shared objects
#
# Targets: W1 >= 30,000 req/s, W2 >= 5,000 req/s, W3 >= 10,000 req/s.
# Exit status: 0 when the benchmark ran (whether or not the targets were met), 1 on a setup error.
set -uo pipefail

ROWS=${ROWS:-100000}
PROFILE=${PROFILE:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "data_bench: $*" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
source "$ROOT/tests/bench/lib.sh"
common_settings
require_whole 20000 DURATION ROUNDS WARMUP WRK_THREADS
[[ $ROWS =~ ^[0-9]+$ ]] && ((ROWS >= 1000 && ROWS <= 10000000)) || die "ROWS must be from 1000 to 10000000"

ensure_tools
if [[ $PROFILE == 1 ]] && ! command -v perf >/dev/null; then
    [[ $(id -u) == 0 ]] || die "PROFILE=1 needs perf (sudo apt-get install -y linux-perf)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null || die "installing linux-perf failed"
fi
build_release
[[ -x $OUTPOSTD ]] || die "no outpostd at $OUTPOSTD (build it, or set OUTPOSTD=...)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-data-bench.XXXXXX") || die "mktemp failed"

bench_banner "Outpost record API benchmark" \
    "$(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), $("$NGINX" -v 2>&1 | sed 's/.*version: //')"
echo

# ---------------------------------------------------------------------------------------------
# Server, account, collection, seed (lib.sh)
start_bench_server
create_bench_collection
seed_bench_records "$ROWS"

# 1,000 ids for W1, and a body for nginx of the same shape.
write_w1_script
# W1k: the same requests with an API key.
APIKEY=$(curl -s -m 10 "$BASE/api/keys" -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"bench","scopes":["records:read:bench"]}' | sed -n 's/.*"key":"\(opk_[A-Za-z0-9]*\)".*/\1/p')
[[ -n $APIKEY ]] || die "creating the API key failed"
sed "s|wrk.format(\"GET\", \(.*\)) end|wrk.format(\"GET\", \1, {[\"X-API-Key\"] = \"$APIKEY\"}) end|" "$TMP/w1.lua" >"$TMP/w1k.lua"
grep -q 'X-API-Key' "$TMP/w1k.lua" || die "could not write the W1k script"
cat >"$TMP/w2.lua" <<'EOF'
request = function()
  local c = math.random(0, 99)
  return wrk.format("GET", "/api/collections/bench/records?filter=category%3D%27c" .. c .. "%27&sort=-score&perPage=20")
end
EOF
cat >"$TMP/w3.lua" <<'EOF'
local n = 0
request = function()
  n = n + 1
  local body = '{"title":"w3 ' .. n .. '","category":"w3","score":' .. n .. ',"body":"created by the write benchmark"}'
  return wrk.format("POST", "/api/collections/bench/records", {["Content-Type"] = "application/json"}, body)
end
EOF
mkdir -p "$TMP/www"
curl -s -m 10 "$BASE/api/collections/bench/records/$(head -n1 "$TMP/ids.txt")" >"$TMP/www/record.json"
start_nginx 2 "$TMP/www" "$TMP/nginx"
wait_http_200 "http://127.0.0.1:$NGINX_PORT/record.json" || die "nginx did not start"
echo "  W1 body $(wc -c <"$TMP/www/record.json") bytes; W2 sample: $(curl -s -m 10 \
    "$BASE/api/collections/bench/records?filter=category%3D%27c7%27&sort=-score&perPage=20" | grep -o '"totalItems":[0-9]*')"
echo

# ---------------------------------------------------------------------------------------------
declare -A RPS P50 P99 ERRS
measure() { # $1 label, $2 url, [$3 script]
    local label=$1 url=$2 args=() out n rps p50 p99 errs
    [[ -n ${3:-} ]] && args+=(-s "$3")
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "${args[@]}" "$url" >/dev/null 2>&1
    n=$(($(printf '%s' "${RPS[$label]:-}" | wc -w) + 1))
    out="$TMP/wrk-$label-$n.txt"
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${args[@]}" "$url" >"$out" 2>&1
    read -r rps p50 p99 errs <<<"$(wrk_figures "$out")"
    [[ $rps != none ]] || { cat "$out" >&2; die "wrk for $label produced no result"; }
    RPS[$label]+="$rps "; P50[$label]+="$p50 "; P99[$label]+="$p99 "; ERRS[$label]=$((${ERRS[$label]:-0} + errs))
    printf '  %-5s %-6s %10s %8s %8s %7s\n' "$r" "$label" "$rps" "$p50" "$p99" "$errs"
}
echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency (after ${WARMUP}s warm-up), $ROUNDS rounds"
printf '  %-5s %-6s %10s %8s %8s %7s\n' round load req/s p50_ms p99_ms errors
for ((r = 1; r <= ROUNDS; r++)); do
    measure W1 "$BASE/" "$TMP/w1.lua"
    measure W1k "$BASE/" "$TMP/w1k.lua"
    measure W2 "$BASE/" "$TMP/w2.lua"
    measure nginx "http://127.0.0.1:$NGINX_PORT/record.json"
    measure W3 "$BASE/" "$TMP/w3.lua"
done
echo

profile() { # $1 label, $2 script: perf samples of outpostd while wrk runs the load
    local data="$TMP/perf-$1.data"
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$((DURATION + 2))s" -s "$2" "$BASE/" >"$TMP/wrk-profile-$1.txt" 2>&1 &
    local wrk_pid=$!
    sleep 1
    perf record -q -F 997 -g -p "$SERVER_PID" -o "$data" -- sleep "$DURATION" >/dev/null 2>&1
    wait "$wrk_pid"
    echo "-- $1 under perf: $(awk '/^Requests\/sec:/ { printf "%.0f req/s", $2 }' "$TMP/wrk-profile-$1.txt")" \
        "(sampling costs a few per cent); self time by shared object, then by symbol"
    perf report -q -i "$data" --no-children --sort dso -g none --percent-limit 2 2>/dev/null | sed '/^$/d; s/^/  /' | head -n 12
    perf report -q -i "$data" --no-children --sort symbol --percent-limit 0.8 -g none 2>/dev/null \
        | sed '/^$/d; s/^/  /' | cut -c1-150 | head -n 30
}
if [[ $PROFILE == 1 ]]; then
    echo "== Profiles (perf record -F 997 -g -p outpostd, ${DURATION}s of load each)"
    profile W1 "$TMP/w1.lua"
    profile W3 "$TMP/w3.lua"
    echo
fi

created=$(curl -s -m 30 "$BASE/api/collections/bench/records?filter=category%3D%27w3%27&perPage=1" \
    | grep -o '"totalItems":[0-9]*' | cut -d: -f2)
echo "== Summary (medians of $ROUNDS runs)"
printf '  %-6s %10s %14s %8s %8s %7s %10s\n' load req/s "(min..max)" p50_ms p99_ms errors target
for t in W1 W1k W2 W3 nginx; do
    case $t in W1) target=30000 ;; W2) target=5000 ;; W3) target=10000 ;; *) target=- ;; esac
    # shellcheck disable=SC2086 # space-separated lists
    med=$(median ${RPS[$t]})
    verdict=""
    [[ $target != - ]] && verdict=$(awk -v v="$med" -v t="$target" 'BEGIN { print (v >= t) ? "met" : "NOT met" }')
    # shellcheck disable=SC2086
    printf '  %-6s %10.0f %14s %8s %8s %7s %10s %s\n' "$t" "$med" "($(minmax ${RPS[$t]}))" "$(median ${P50[$t]})" \
        "$(median ${P99[$t]})" "${ERRS[$t]}" "$target" "$verdict"
done
# shellcheck disable=SC2086
# shellcheck disable=SC2086
echo "  W1k / W1: $(awk -v a="$(median ${RPS[W1k]})" -v b="$(median ${RPS[W1]})" 'BEGIN { printf "%.3f", a / b }') (API-key authentication; target >= 0.95)"
# shellcheck disable=SC2086
echo "  W1 / nginx: $(awk -v a="$(median ${RPS[W1]})" -v b="$(median ${RPS[nginx]})" 'BEGIN { printf "%.2f", a / b }')"
echo "  W3 records stored: ${created:-?} (every 2xx of the W3 runs and warm-ups is one record)"
echo "  data.db after the runs: $(du -sh "$TMP/data" | cut -f1); server peak RSS $(awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
exit 0

#!/usr/bin/env bash
# Soak: a long run of mixed load at the highest rate the machine sustains, with the production rate
# limits, sampling the server's resident memory. Everything runs on 127.0.0.1 only.
#
#   bash tests/bench/soak.sh            # 10 minutes
#   SOAK_SECONDS=60 bash tests/bench/soak.sh
#
# Load (one wrk, CONNECTIONS connections, as fast as the server answers), per request at random:
#   70%  GET one record by id          with one of KEYS API keys (records:read, records:write)
#   10%  GET a filtered, sorted page   with a key
#   10%  POST a new record             with a key
#    5%  PATCH a record                with a key
#    5%  GET a page as a guest         one client address: over its read limit, so mostly 429s
# Every response's status is tallied; anything but 2xx and the guest's 429s is an error. The rate
# limits are the defaults (auth:30/60s, read:2000/10s, write:500/10s, admin:600/10s): each key is a
# caller of its own, the guest one caller. Metrics and the request log are on.
#
# Every SAMPLE_SECONDS the server's RSS (VmRSS) is recorded; the curve is printed at the end with
# the growth over the second half of the run (flat: within a few MiB).
#
# Environment (all optional): SOAK_SECONDS=600, SAMPLE_SECONDS=10, KEYS=128, ROWS=10000,
# CONNECTIONS=64, WRK_THREADS=2, OUTPOST_THREADS, BUILD=0, OUTPOSTD=path, KEEP_TMP=1.
# Exit status: 0 when the run had no unintended errors, 1 otherwise or on a setup error.
set -uo pipefail

SOAK_SECONDS=${SOAK_SECONDS:-600}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-10}
KEYS=${KEYS:-128}
ROWS=${ROWS:-10000}
RATE_LIMITS=${RATE_LIMITS:-auth:30/60s, read:2000/10s, write:500/10s, admin:600/10s}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "soak: $*" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
source "$ROOT/tests/bench/lib.sh"
common_settings
require_whole 86400 SOAK_SECONDS
require_whole 3600 SAMPLE_SECONDS
require_whole 1000 KEYS WRK_THREADS
[[ $ROWS =~ ^[0-9]+$ ]] && ((ROWS >= 1000 && ROWS <= 10000000)) || die "ROWS must be from 1000 to 10000000"

ensure_tools
build_release
[[ -x $OUTPOSTD ]] || die "no outpostd at $OUTPOSTD (build it, or set OUTPOSTD=...)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-soak.XXXXXX") || die "mktemp failed"

bench_banner "Outpost soak" "$(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }')"
echo "rate limits: $RATE_LIMITS"
echo

start_bench_server
create_bench_collection
seed_bench_records "$ROWS"
write_w1_script # $TMP/ids.txt

echo "Creating $KEYS API keys ..."
: >"$TMP/keys.txt"
for ((k = 0; k < KEYS; k++)); do
    answer=$(curl -s -m 10 "$BASE/api/keys" -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"soak $k\",\"scopes\":[\"records:read:bench\",\"records:write:bench\"]}")
    key=$(sed -n 's/.*"key":"\(opk_[^"]*\)".*/\1/p' <<<"$answer")
    [[ -n $key ]] || die "could not create API key $k: $answer"
    echo "$key" >>"$TMP/keys.txt"
done

{
    echo "local ids = {"
    sed 's/.*/"&",/' "$TMP/ids.txt"
    echo "}"
    echo "local keys = {"
    sed 's/.*/"&",/' "$TMP/keys.txt"
    echo "}"
    cat <<'EOF'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function request()
    local r = math.random(100)
    local h = { ["X-API-Key"] = keys[math.random(#keys)] }
    if r <= 70 then
        return wrk.format("GET", "/api/collections/bench/records/" .. ids[math.random(#ids)], h)
    elseif r <= 80 then
        return wrk.format("GET", "/api/collections/bench/records?perPage=20&sort=-score&filter=category%3D%27c" ..
            math.random(0, 99) .. "%27", h)
    elseif r <= 90 then
        h["Content-Type"] = "application/json"
        return wrk.format("POST", "/api/collections/bench/records", h,
            '{"title":"soak","category":"c7","score":' .. math.random(1000) .. ',"body":"written during the soak"}')
    elseif r <= 95 then
        h["Content-Type"] = "application/json"
        return wrk.format("PATCH", "/api/collections/bench/records/" .. ids[math.random(#ids)], h,
            '{"score":' .. math.random(1000) .. '}')
    end
    return wrk.format("GET", "/api/collections/bench/records?perPage=5&skipTotal=1")
end
function response(status, headers, body)
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
end
function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
    end
    local line = "statuses:"
    for k, v in pairs(total) do line = line .. " " .. k .. "=" .. v end
    print(line)
end
EOF
} >"$TMP/mix.lua"

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null; }

echo "Soaking for ${SOAK_SECONDS}s: wrk -t$WRK_THREADS -c$CONNECTIONS, RSS every ${SAMPLE_SECONDS}s ..."
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${SOAK_SECONDS}s" --latency -s "$TMP/mix.lua" "$BASE/" >"$TMP/wrk.txt" 2>&1 &
wrk_pid=$!
PIDS+=("$wrk_pid")
: >"$TMP/rss.txt"
t0=$SECONDS
while kill -0 "$wrk_pid" 2>/dev/null; do
    echo "$((SECONDS - t0)) $(rss_kib)" >>"$TMP/rss.txt"
    sleep "$SAMPLE_SECONDS"
done
wait "$wrk_pid"
forget_pid "$wrk_pid"
echo "$((SECONDS - t0)) $(rss_kib)" >>"$TMP/rss.txt"

echo
echo "== RSS (MiB) by time (s)"
awk '{ printf "  %5d s  %7.1f MiB\n", $1, $2 / 1024 }' "$TMP/rss.txt"
half=$((SOAK_SECONDS / 2))
awk -v half="$half" '
    $1 >= half && first == "" { first = $2 }
    { last = $2; if ($2 > peak) peak = $2 }
    END { printf "  second half: %.1f -> %.1f MiB (%+.1f MiB); peak %.1f MiB\n", first / 1024, last / 1024,
          (last - first) / 1024, peak / 1024 }' "$TMP/rss.txt"

echo
echo "== Load"
read -r rps p50 p99 errs <<<"$(wrk_figures "$TMP/wrk.txt")"
echo "  $rps req/s, p50 $p50 ms, p99 $p99 ms (all statuses)"
statuses=$(sed -n 's/^statuses: //p' "$TMP/wrk.txt")
echo "  statuses: $statuses (429: the guest's share beyond its read limit, and any key past its own)"
socket=$(awk '/Socket errors:/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i } END { print n + 0 }' "$TMP/wrk.txt")
bad=0
for pair in $statuses; do
    code=${pair%%=*} n=${pair#*=}
    [[ $code == 2* || $code == 429 ]] || bad=$((bad + n))
done
echo "  unintended errors: $bad responses outside 2xx/429, $socket socket errors"
echo "  server: $(awk '/^VmHWM/ { printf "peak RSS %.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status"), logs.db $(du -h "$TMP/data/logs.db" | cut -f1), data.db $(du -h "$TMP/data/data.db" | cut -f1)"
((bad == 0 && socket == 0))

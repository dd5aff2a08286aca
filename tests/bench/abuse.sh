#!/usr/bin/env bash
# Abuse run (issue 5): 1,000 malformed, oversized and slow requests at a release outpostd while W1
# runs, on 127.0.0.1 only. Shows that the server answers each bad request with the right 4xx (or
# closes it, where that is right) and that W1 keeps serving meanwhile.
#
#   bash tests/bench/abuse.sh
#
#   W1     GET one record by id (ids drawn at random from 1,000), public view rule: data_bench.sh's W1
#   abuse  tests/bench/abuse.cpp: 28 kinds of bad request in turn (malformed request lines, bad
#          header fields, bad framing, oversized heads and bodies, bad chunked encoding, a wrong Host,
#          slowloris heads and bodies, silent connections), ABUSE_CONCURRENCY connections at most,
#          started evenly over the W1 run and its warm-up. It connects from 127.0.0.2, so that the
#          server counts it as a client of its own (per-client limits), apart from W1 on 127.0.0.1.
#
# Each round measures W1 quiet, then W1 during an abuse run, and prints the abuse run's tally: for
# each kind, how many got the expected status, were closed without one, or got no answer at all.
# The server runs with its default limits: a slowloris head is cut off after 10 s (header timeout),
# a stalled body after 30 s (body timeout), so an abuse run ends up to ~35 s after W1.
#
# Environment (all optional):
#   ROWS=10000              records seeded before the runs
#   DURATION=20             seconds per measured W1 run
#   ROUNDS=3                rounds; each runs W1 quiet, then W1 during an abuse run
#   WARMUP=2                seconds of unmeasured W1 before each measured run
#   CONNECTIONS=64          W1's wrk connections (-c)
#   WRK_THREADS=2           W1's wrk threads (-t)
#   COUNT=1000              bad requests per abuse run
#   ABUSE_CONCURRENCY=100   bad requests in flight at once (the per-client limit is 256 connections)
#   OUTPOST_THREADS         network threads for outpostd (default: its own, the number of cores)
#   BUILD=0                 skip the build and use the existing binaries
#   BENCH_BUILD=dir         where to build (default build/bench: Release, tests on, UI off)
#   OUTPOSTD=path ABUSE=path   use these binaries instead (implies BUILD=0)
#   KEEP_TMP=1              keep the temporary directory (data, logs, raw output)
#
# Exit status: 0 when the benchmark ran and every bad request got what it should; 1 when not, or on
# a setup error.
set -uo pipefail

ROWS=${ROWS:-10000}
DURATION=${DURATION:-20}
COUNT=${COUNT:-1000}
ABUSE_CONCURRENCY=${ABUSE_CONCURRENCY:-100}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$ROOT/build/bench}
ABUSE=${ABUSE:-}

die() { echo "abuse: $*" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
source "$ROOT/tests/bench/lib.sh"
USER_OUTPOSTD=${OUTPOSTD:-}
common_settings # BUILD=0 when OUTPOSTD is given
[[ -n $USER_OUTPOSTD ]] || OUTPOSTD=$BENCH_BUILD/app/outpostd
[[ -n $ABUSE ]] && BUILD=0
: "${ABUSE:=$BENCH_BUILD/tests/integration/abuse}"
require_whole 1000 DURATION ROUNDS WARMUP WRK_THREADS
require_whole 1000000 COUNT
require_whole 10000 ABUSE_CONCURRENCY
[[ $ROWS =~ ^[0-9]+$ ]] && ((ROWS >= 1000 && ROWS <= 10000000)) || die "ROWS must be from 1000 to 10000000"

ensure_tools
if [[ $BUILD == 1 ]]; then
    echo "Building Release with tests in $BENCH_BUILD (targets outpostd, abuse) ..."
    if ! cmake -S "$ROOT" -B "$BENCH_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOUTPOST_BUILD_TESTS=ON \
        -DOUTPOST_BUILD_UI=OFF >/dev/null || ! cmake --build "$BENCH_BUILD" --target outpostd abuse >/dev/null; then
        die "the build failed (run the cmake commands above to see why)"
    fi
fi
[[ -x $OUTPOSTD ]] || die "no outpostd at $OUTPOSTD (build it, or set OUTPOSTD=...)"
[[ -x $ABUSE ]] || die "no abuse program at $ABUSE (build the target abuse, or set ABUSE=...)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-abuse.XXXXXX") || die "mktemp failed"

bench_banner "Outpost abuse benchmark" "$(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), abuse.cpp"
echo

start_bench_server
create_bench_collection
seed_bench_records "$ROWS"
write_w1_script
threads=$(sed -nE 's/.*\(([0-9]+) network threads\).*/\1/p' "$TMP/outpost.log" | head -n1)
echo "  outpostd: ${threads:-?} network threads, default limits"
# The abuse connects from 127.0.0.2; make sure that works here before relying on it.
"$ABUSE" --port "$OUTPOST_PORT" --count 1 --concurrency 1 --spread 0 --source 127.0.0.2 >"$TMP/probe.txt" 2>&1 \
    || { cat "$TMP/probe.txt" >&2; die "the abuse program cannot reach the server from 127.0.0.2"; }
echo

rss_mib() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

declare -A RPS P50 P99 ERRS
ABUSE_OK=0
ABUSE_SENT=0
run_w1() { # $1 label (quiet|abuse): one measured W1 run; with `abuse`, an abuse run across it
    local label=$1 out="$TMP/wrk-$1-$r.txt" aout="$TMP/abuse-$r.txt" abuse_pid="" rps p50 p99 errs rss0 total
    rss0=$(rss_mib)
    if [[ $label == abuse ]]; then
        "$ABUSE" --port "$OUTPOST_PORT" --count "$COUNT" --concurrency "$ABUSE_CONCURRENCY" \
            --spread "$((WARMUP + DURATION))" --source 127.0.0.2 >"$aout" 2>&1 &
        abuse_pid=$!
        PIDS+=("$abuse_pid")
    fi
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$TMP/w1.lua" "$BASE/" >/dev/null 2>&1
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/w1.lua" "$BASE/" >"$out" 2>&1
    read -r rps p50 p99 errs <<<"$(wrk_figures "$out")"
    [[ $rps != none ]] || { cat "$out" >&2; die "wrk for W1 ($label) produced no result"; }
    total=-
    if [[ -n $abuse_pid ]]; then
        wait "$abuse_pid" # bounded by the program's own deadlines
        forget_pid "$abuse_pid"
        total=$(sed -nE 's/^total: ([0-9]+) of ([0-9]+) .*/\1\/\2/p' "$aout")
        [[ -n $total ]] || { cat "$aout" >&2; die "the abuse program produced no tally"; }
        ABUSE_OK=$((ABUSE_OK + ${total%/*}))
        ABUSE_SENT=$((ABUSE_SENT + ${total#*/}))
    fi
    health_is_200 "$OUTPOST_PORT" || die "the server stopped answering /api/health after the $label run"
    RPS[$label]+="$rps "; P50[$label]+="$p50 "; P99[$label]+="$p99 "; ERRS[$label]=$((${ERRS[$label]:-0} + errs))
    # shellcheck disable=SC2059 # the format is ours
    printf "$ROW" "$r" "$label" "$rps" "$p50" "$p99" "$errs" "$total" "$rss0" "$(rss_mib)"
}

ROW='  %-5s %-6s %8s %7s %7s %6s %12s %8s %8s\n'
echo "W1: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency (after ${WARMUP}s warm-up); abuse: $COUNT bad" \
    "requests, at most $ABUSE_CONCURRENCY at once, started over $((WARMUP + DURATION)) s; $ROUNDS rounds"
# shellcheck disable=SC2059 # the format is ours
printf "$ROW" round run "W1 req/s" p50_ms p99_ms errors "abuse ok" "RSS MiB" "after"
for ((r = 1; r <= ROUNDS; r++)); do
    run_w1 quiet
    run_w1 abuse
done
echo
echo "== The last abuse run, by kind of request"
sed 's/^/  /' "$TMP/abuse-$ROUNDS.txt"
echo

# shellcheck disable=SC2086 # space-separated lists
{
    echo "== Summary (medians of $ROUNDS runs)"
    printf '  %-6s %8s %8s %8s %7s\n' run "W1 req/s" p50_ms p99_ms errors
    for t in quiet abuse; do
        printf '  %-6s %8.0f %8s %8s %7s\n' "$t" "$(median ${RPS[$t]})" "$(median ${P50[$t]})" \
            "$(median ${P99[$t]})" "${ERRS[$t]}"
    done
    echo "  W1 req/s abuse / quiet: $(awk -v a="$(median ${RPS[abuse]})" -v b="$(median ${RPS[quiet]})" 'BEGIN { printf "%.2f", a / b }')"
    echo "  W1 p99 abuse / quiet: $(awk -v a="$(median ${P99[abuse]})" -v b="$(median ${P99[quiet]})" 'BEGIN { printf "%.2f", a / b }')"
    echo "  bad requests answered as they should: $ABUSE_OK of $ABUSE_SENT"
}
echo "  server peak RSS $(awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
((ABUSE_OK == ABUSE_SENT && ${ERRS[quiet]:-0} + ${ERRS[abuse]:-0} == 0)) || exit 1
exit 0

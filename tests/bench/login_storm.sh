#!/usr/bin/env bash
# Login storm: what a flood of password logins (Argon2id at OWASP strength, m=19 MiB, t=2) does to
# the latency of ordinary requests. Everything runs on 127.0.0.1 only.
#
#   bash tests/bench/login_storm.sh
#
#   W1     GET one record by id (ids drawn at random from 1,000), public view rule: data_bench.sh's W1
#   storm  POST /api/collections/_superusers/auth-with-password with the right password, from a
#          second wrk (-t1 -cLOGIN_CONNECTIONS), for as long as the W1 run and its warm-up last
#
# Each round measures W1 alone, then W1 during a storm. Password checks run on a worker pool of the
# server, never on network threads. Each run also prints where the CPU went: the server's network
# threads (running, and runnable but waiting for a CPU), its worker pools, its other threads, and the
# rest of the machine (other processes; a run where that is high is noise).
#
# Environment (all optional):
#   ROWS=10000           records seeded before the runs
#   DURATION=10          seconds per measured W1 run
#   ROUNDS=3             rounds; each round runs W1 alone and W1 during a storm
#   WARMUP=2             seconds of unmeasured load before each measured run (the storm starts first)
#   CONNECTIONS=64       W1's wrk connections (-c), as in data_bench.sh
#   WRK_THREADS=2        W1's wrk threads (-t)
#   LOGIN_CONNECTIONS=4  logins in flight at once, 1 to 5: the brute-force throttle counts a login as a
#                        failure until it has succeeded, and locks one account from one address after
#                        5 (backend/auth/loginthrottle.h); 4 keeps a 2-thread pool busy with a queue
#   OUTPOST_THREADS      network threads for outpostd (default: its own default, the number of cores);
#                        the pool that hashes passwords holds max(2, threads)
#   BUILD=0              skip the Release build and use the existing build/release/app/outpostd
#   OUTPOSTD=path        benchmark this outpostd binary instead (implies BUILD=0)
#   KEEP_TMP=1           keep the temporary directory (data, logs, raw wrk output)
#
# Target (issue 4): W1's p99 during the storm at most 2x its p99 alone (medians over the rounds).
# Exit status: 0 when the benchmark ran (whether or not the target was met), 1 on a setup error.
set -uo pipefail

ROWS=${ROWS:-10000}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-4}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "login_storm: $*" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
source "$ROOT/tests/bench/lib.sh"
common_settings
require_whole 1000 DURATION ROUNDS WARMUP WRK_THREADS
require_whole 5 LOGIN_CONNECTIONS
[[ $ROWS =~ ^[0-9]+$ ]] && ((ROWS >= 1000 && ROWS <= 10000000)) || die "ROWS must be from 1000 to 10000000"

ensure_tools
build_release
[[ -x $OUTPOSTD ]] || die "no outpostd at $OUTPOSTD (build it, or set OUTPOSTD=...)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-login-storm.XXXXXX") || die "mktemp failed"
CLK_TCK=$(getconf CLK_TCK)

bench_banner "Outpost login storm benchmark" "$(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }')"
echo

# ---------------------------------------------------------------------------------------------
# Server, account, collection, seed, W1 (lib.sh); the storm's request.
start_bench_server
create_bench_collection
seed_bench_records "$ROWS"
write_w1_script
cat >"$TMP/login.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"identity":"$EMAIL","password":"$PASSWORD"}'
EOF
threads=$(sed -nE 's/.*\(([0-9]+) network threads\).*/\1/p' "$TMP/outpost.log" | head -n1)
echo "  outpostd: ${threads:-?} network threads; password hashing on a pool of up to $((${threads:-2} > 2 ? ${threads:-2} : 2)) threads"
echo

# ---------------------------------------------------------------------------------------------
# The server's threads by group: network (outpost-net-N), pool (the worker pools' threads, named after
# their pool, outpost-blocking or outpost-passwords, or Qt's "Thread (pooled)"), other (main, store
# writer, ...). From /proc/PID/task/*/schedstat:
# time on a CPU, and for the network threads also time spent runnable but waiting for a CPU.
thread_times() { # -> "net_run net_wait pool_run other_run" in ns so far
    local task comm stat run wait _slices net=0 netwait=0 pool=0 other=0
    for task in /proc/"$SERVER_PID"/task/*; do
        { IFS= read -r comm <"$task/comm" && IFS= read -r stat <"$task/schedstat"; } 2>/dev/null || continue # a thread ended
        read -r run wait _slices <<<"$stat"
        case $comm in
            outpost-net*) net=$((net + run)) netwait=$((netwait + wait)) ;;
            outpost-blocki* | outpost-passw* | "Thread (pooled)") pool=$((pool + run)) ;;
            *) other=$((other + run)) ;;
        esac
    done
    echo "$net $netwait $pool $other"
}

children_cpu() { # sets CHILD_CPU: CPU seconds of this shell's finished children (the wrk runs)
    times >"$TMP/times" # here, not in $(...): a subshell's children are not ours
    CHILD_CPU=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%.3f", t }' \
        "$TMP/times")
}

declare -A P50 P99 RPS ERRS LOGINS LOGIN_P99 LOGIN_ERRS NET WAIT POOL REST
run_w1() { # $1 label (alone|storm): one measured W1 run; with `storm`, logins for its whole length
    local label=$1 out="$TMP/wrk-$1-$r.txt" lout="$TMP/wrk-login-$r.txt" storm_pid="" before after
    local rps p50 p99 errs lrps=- lp50=- lp99=- lerrs=- busy0 busy1 wrk0 wrk1 net wait pool other rest
    if [[ $label == storm ]]; then
        wrk -t1 -c"$LOGIN_CONNECTIONS" -d"$((WARMUP + DURATION + 2))s" --latency -s "$TMP/login.lua" \
            "$BASE/api/collections/_superusers/auth-with-password" >"$lout" 2>&1 &
        storm_pid=$!
        PIDS+=("$storm_pid")
        sleep 1 # the pool's queue fills before W1 starts
    fi
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$TMP/w1.lua" "$BASE/" >/dev/null 2>&1
    children_cpu
    before=$(thread_times) busy0=$(busy_ticks) wrk0=$CHILD_CPU
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$TMP/w1.lua" "$BASE/" >"$out" 2>&1
    children_cpu
    after=$(thread_times) busy1=$(busy_ticks) wrk1=$CHILD_CPU
    read -r rps p50 p99 errs <<<"$(wrk_figures "$out")"
    [[ $rps != none ]] || { cat "$out" >&2; die "wrk for W1 ($label) produced no result"; }
    # Cores (seconds per second of W1). `rest`: the machine's busy time less the server's and W1's wrk:
    # the login wrk (little) and everything else running; above ~0.1 the run is noisy.
    read -r net wait pool other rest <<<"$(awk -v d="$DURATION" -v b="$before" -v c="$after" -v hz="$CLK_TCK" \
        -v busy=$((busy1 - busy0)) -v w="$wrk0 $wrk1" 'BEGIN {
        split(b, x); split(c, y); split(w, k)
        for (i = 1; i <= 4; i++) v[i] = (y[i] - x[i]) / 1e9 / d
        r = busy / hz / d - v[1] - v[3] - v[4] - (k[2] - k[1]) / d
        printf "%.2f %.2f %.2f %.2f %.2f", v[1], v[2], v[3], v[4], (r < 0 ? 0 : r) }')"
    if [[ -n $storm_pid ]]; then
        wait "$storm_pid"
        forget_pid "$storm_pid"
        read -r lrps lp50 lp99 lerrs <<<"$(wrk_figures "$lout")"
        [[ $lrps != none ]] || { cat "$lout" >&2; die "wrk for the logins produced no result"; }
        lrps=$(awk '/ requests in / { gsub(/s,?/, "", $4); printf "%.1f", $1 / $4 }' "$lout")
        LOGINS[$label]+="$lrps "; LOGIN_P99[$label]+="$lp99 "; LOGIN_ERRS[$label]=$((${LOGIN_ERRS[$label]:-0} + lerrs))
    fi
    RPS[$label]+="$rps "; P50[$label]+="$p50 "; P99[$label]+="$p99 "; ERRS[$label]=$((${ERRS[$label]:-0} + errs))
    NET[$label]+="$net "; WAIT[$label]+="$wait "; POOL[$label]+="$pool "; REST[$label]+="$rest "
    # shellcheck disable=SC2059 # the format is ours
    printf "$ROW" "$r" "$label" "$rps" "$p50" "$p99" "$errs" "$lrps" "$lp50" "$lp99" "$lerrs" "$net" "$wait" "$pool" \
        "$other" "$rest"
}

ROW='  %-5s %-6s %8s %7s %7s %6s %9s %8s %8s %6s   %5s %5s %5s %5s %5s\n'
echo "W1: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency (after ${WARMUP}s warm-up); storm: wrk -t1" \
    "-c$LOGIN_CONNECTIONS of logins; $ROUNDS rounds"
echo "  Cores during W1: the server's network threads running (net) and runnable but waiting for a CPU"
echo "  (wait), its worker pools, where passwords are hashed (pool), and other threads (other); the rest of"
echo "  the machine (rest)."
# shellcheck disable=SC2059 # the format is ours
printf "$ROW" round run "W1 req/s" p50_ms p99_ms errors logins/s login50 login99 l.err net wait pool other rest
for ((r = 1; r <= ROUNDS; r++)); do
    run_w1 alone
    run_w1 storm
done
echo

# shellcheck disable=SC2086 # space-separated lists
{
    p99_alone=$(median ${P99[alone]})
    p99_storm=$(median ${P99[storm]})
    ratio=$(awk -v a="$p99_storm" -v b="$p99_alone" 'BEGIN { printf "%.2f", a / b }')
    verdict=$(awk -v q="$ratio" 'BEGIN { print (q <= 2) ? "met" : "NOT met" }')
    echo "== Summary (medians of $ROUNDS runs)"
    printf '  %-6s %8s %8s %8s %7s %9s %8s   %5s %5s %5s %5s\n' run "W1 req/s" p50_ms p99_ms errors logins/s login99 \
        net wait pool rest
    for t in alone storm; do
        logins=- login99=-
        [[ $t == storm ]] && logins=$(median ${LOGINS[storm]}) && login99=$(median ${LOGIN_P99[storm]})
        printf '  %-6s %8.0f %8s %8s %7s %9s %8s   %5s %5s %5s %5s\n' "$t" "$(median ${RPS[$t]})" \
            "$(median ${P50[$t]})" "$(median ${P99[$t]})" "${ERRS[$t]}" "$logins" "$login99" "$(median ${NET[$t]})" \
            "$(median ${WAIT[$t]})" "$(median ${POOL[$t]})" "$(median ${REST[$t]})"
    done
    echo "  W1 p99 storm / alone: $ratio (target <= 2: $verdict)"
    echo "  W1 p50 storm / alone: $(awk -v a="$(median ${P50[storm]})" -v b="$(median ${P50[alone]})" 'BEGIN { printf "%.2f", a / b }')"
    echo "  W1 req/s storm / alone: $(awk -v a="$(median ${RPS[storm]})" -v b="$(median ${RPS[alone]})" 'BEGIN { printf "%.2f", a / b }')"
}
if ((${LOGIN_ERRS[storm]:-0} > 0)); then
    echo "  WARNING: ${LOGIN_ERRS[storm]} logins failed (non-2xx or socket errors): throttled? (KEEP_TMP=1 keeps wrk's output)"
fi
echo "  server peak RSS $(awk '/^VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
exit 0

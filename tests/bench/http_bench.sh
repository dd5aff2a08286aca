#!/usr/bin/env bash
# Outpost HTTP benchmark: GET /api/health against a tuned nginx serving a static file of the same
# size, plus idle memory and start-up time. Everything runs on 127.0.0.1 only.
#
#   bash tests/bench/http_bench.sh
#
# Environment (all optional):
#   DURATION=10     seconds per measured wrk run
#   ROUNDS=3        rounds; each round measures Outpost, nginx with 1 worker, nginx with 2 workers
#   WARMUP=2        seconds of unmeasured load before each measured run
#   CONNECTIONS=64  wrk connections (-c)
#   WRK_THREADS=2   wrk threads (-t)
#   STARTS=10       process starts timed for start-to-first-200
#   OUTPOST_THREADS network threads for outpostd (default: its own default, the number of cores)
#   BUILD=0         skip the Release build and use the existing build/release/app/outpostd
#   OUTPOSTD=path   benchmark this outpostd binary instead (implies BUILD=0)
#   KEEP_TMP=1      keep the temporary directory (configs, logs, raw wrk output)
#
# Targets: Outpost/nginx req/s ratio >= 0.90, idle RSS <= 30 MiB, start to first 200 <= 200 ms.
# Exit status: 0 when the benchmark ran (whether or not the targets were met), 1 on a setup error.
set -uo pipefail

STARTS=${STARTS:-10}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

die() { echo "http_bench: $*" >&2; exit 1; }
# shellcheck source=tests/bench/lib.sh
source "$ROOT/tests/bench/lib.sh"
common_settings
require_whole 1000 DURATION ROUNDS WARMUP WRK_THREADS STARTS

# ---------------------------------------------------------------------------------------------
# Tools
ensure_tools

# ---------------------------------------------------------------------------------------------
# Build
build_release
[[ -x $OUTPOSTD ]] || die "no outpostd at $OUTPOSTD (build it, or set OUTPOSTD=...)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX") || die "mktemp failed"
CLK_TCK=$(getconf CLK_TCK)
NPROC=$(nproc)

# ---------------------------------------------------------------------------------------------
echo "== Outpost HTTP benchmark  $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $NPROC CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "commit:   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- backend app 2>/dev/null || echo ' (+ uncommitted changes in backend/ or app/)')"
echo "tools:    $(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'), $("$NGINX" -v 2>&1 | sed 's/.*version: //'), outpostd $("$OUTPOSTD" version 2>/dev/null | awk '{ print $2 }')"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before starting"
echo

# ---------------------------------------------------------------------------------------------
# Start-up: process start to the first 200 from /api/health, polled in a tight loop.
startup_ms() { # $1 data dir; sets STARTUP_MS, dies if there is no 200 within 10 s
    local port t0 now i ok=0
    free_port
    port=$FREE_PORT
    t0=${EPOCHREALTIME/./}
    start_outpost "$1" "$port" "$TMP/start.log"
    for ((i = 0; i < 1000000; i++)); do # no sleep: connection attempts are refused until it listens
        if health_is_200 "$port"; then ok=1; break; fi
        now=${EPOCHREALTIME/./}
        ((now - t0 > 10000000)) && break
        kill -0 "$OUTPOST_PID" 2>/dev/null || break
    done
    now=${EPOCHREALTIME/./}
    stop_pid "$OUTPOST_PID"
    ((ok)) || { cat "$TMP/start.log" >&2; die "outpostd did not answer /api/health within 10 s"; }
    STARTUP_MS=$(awk -v us="$((now - t0))" 'BEGIN { printf "%.1f", us / 1000 }')
}
echo "Start-up (process start to first 200 from /api/health) ..."
startup_ms "$TMP/start-data"
first_start=$STARTUP_MS
starts=()
for ((s = 0; s < STARTS; s++)); do
    startup_ms "$TMP/start-data"
    starts+=("$STARTUP_MS")
done
start_median=$(median "${starts[@]}")
echo "  new data dir (creates the database): $first_start ms; existing data dir, $STARTS starts: ${starts[*]} ms"
echo

# ---------------------------------------------------------------------------------------------
# Servers
free_port
OUTPOST_PORT=$FREE_PORT
start_outpost "$TMP/data" "$OUTPOST_PORT" "$TMP/outpost.log"
SERVER_PID=$OUTPOST_PID
wait_http_200 "http://127.0.0.1:$OUTPOST_PORT/api/health" || { cat "$TMP/outpost.log" >&2; die "outpostd did not start"; }
for ((i = 0; i < 5; i++)); do curl -s -m 5 -o /dev/null "http://127.0.0.1:$OUTPOST_PORT/api/health"; done
sleep 0.5
idle_rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
net_threads=$(sed -n 's/.*(\([0-9]*\) network threads).*/\1/p' "$TMP/outpost.log")

# nginx serves the same path with a file holding a copy of Outpost's body (same size).
mkdir -p "$TMP/www/api"
curl -s -m 5 "http://127.0.0.1:$OUTPOST_PORT/api/health" >"$TMP/www/api/health"
BODY_BYTES=$(wc -c <"$TMP/www/api/health")

declare -A PORT MASTER
for w in 1 2; do
    start_nginx "$w" "$TMP/www" "$TMP/nginx-w$w"
    PORT[nginx-w$w]=$NGINX_PORT
    MASTER[nginx-w$w]=$NGINX_PID
    wait_http_200 "http://127.0.0.1:$NGINX_PORT/api/health" \
        || { cat "$TMP/nginx-w$w/error.log" "$TMP/nginx-w$w/stdout.log" >&2; die "nginx ($w workers) did not start"; }
done
PORT[outpost]=$OUTPOST_PORT
curl -s -m 5 -o /dev/null -D "$TMP/outpost.head" "http://127.0.0.1:$OUTPOST_PORT/api/health"
curl -s -m 5 -o /dev/null -D "$TMP/nginx.head" "http://127.0.0.1:${PORT[nginx-w1]}/api/health"
echo "Response: body $BODY_BYTES bytes for both; head $(wc -c <"$TMP/outpost.head") bytes (Outpost) vs $(wc -c <"$TMP/nginx.head") bytes (nginx)"
echo "Outpost:  ${net_threads:-?} network threads, pid $SERVER_PID;  nginx: open_file_cache, sendfile, access_log off, etag off"
echo

server_pids() { # the processes doing the serving for target $1
    if [[ $1 == outpost ]]; then echo "$SERVER_PID"; else echo "${MASTER[$1]} $(pgrep -P "${MASTER[$1]}" | tr '\n' ' ')"; fi
}

# ---------------------------------------------------------------------------------------------
# Throughput
TARGETS=(outpost nginx-w1 nginx-w2)
declare -A RPS P50 P99 ERRS OTHER EFF
URLPATH=/api/health
echo "Throughput: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency (after ${WARMUP}s warm-up), $ROUNDS rounds, targets alternating"
printf '  %-5s %-9s %10s %8s %8s %7s %10s %10s %10s %12s\n' round target req/s p50_ms p99_ms errors server_cpu wrk_cpu other_cpu req/server_s
for ((r = 1; r <= ROUNDS; r++)); do
    for ((k = 0; k < ${#TARGETS[@]}; k++)); do
        t=${TARGETS[$(((k + r - 1) % ${#TARGETS[@]}))]} # rotate the order every round
        url="http://127.0.0.1:${PORT[$t]}$URLPATH"
        wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" >/dev/null 2>&1
        read -r -a sp <<<"$(server_pids "$t")"
        b0=$(busy_ticks); s0=$(proc_cpu_ticks "${sp[@]}")
        out="$TMP/wrk-$t-$r.txt"
        TIMEFORMAT='%U %S'
        { time wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" >"$out" 2>&1; } 2>"$out.time"
        s1=$(proc_cpu_ticks "${sp[@]}"); b1=$(busy_ticks)
        read -r rps p50 p99 errs <<<"$(wrk_figures "$out")"
        [[ $rps != none ]] || { cat "$out" >&2; die "wrk against $t produced no result"; }
        server_s=$(awk -v a="$s0" -v b="$s1" -v h="$CLK_TCK" 'BEGIN { printf "%.1f", (b - a) / h }')
        wrk_s=$(awk '{ printf "%.1f", $1 + $2 }' "$out.time")
        other_s=$(awk -v a="$b0" -v b="$b1" -v h="$CLK_TCK" -v s="$server_s" -v w="$wrk_s" \
            'BEGIN { o = (b - a) / h - s - w; if (o < 0) o = 0; printf "%.1f", o }')
        eff=$(awk -v n="$(awk '/requests in/ { print $1 }' "$out")" -v a="$s0" -v b="$s1" -v h="$CLK_TCK" \
            'BEGIN { printf "%.0f", (b > a) ? n / ((b - a) / h) : 0 }')
        RPS[$t]+="$rps "; P50[$t]+="$p50 "; P99[$t]+="$p99 "; ERRS[$t]=$((${ERRS[$t]:-0} + errs)); OTHER[$t]+="$other_s "
        EFF[$t]+="$eff "
        printf '  %-5s %-9s %10s %8s %8s %7s %10s %10s %10s %12s\n' "$r" "$t" "$rps" "$p50" "$p99" "$errs" "${server_s}s" "${wrk_s}s" "${other_s}s" "$eff"
    done
done
echo "  (cpu columns: CPU-seconds used during the ${DURATION}s run, of $((NPROC * DURATION)) available; other = everything"
echo "   else on the machine. req/server_s = requests served per CPU-second of the server: less sensitive to other load)"
echo

rss_after_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$SERVER_PID/status")
hwm_kib=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")

# ---------------------------------------------------------------------------------------------
# Summary
declare -A MED
for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    MED[$t]=$(median ${RPS[$t]})
done
best=nginx-w1
awk -v a="${MED[nginx-w2]}" -v b="${MED[nginx-w1]}" 'BEGIN { exit !(a > b) }' && best=nginx-w2
ratio=$(awk -v a="${MED[outpost]}" -v b="${MED[$best]}" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "ge") ? v >= t : v <= t; print ok ? "met" : "NOT met" }'; }

echo "== Summary (medians of $ROUNDS runs)"
printf '  %-22s %10s %14s %8s %8s %7s %10s %13s\n' server req/s "(min..max)" p50_ms p99_ms errors other_cpu req/server_s
for t in outpost nginx-w1 nginx-w2; do
    label=$t
    [[ $t == outpost ]] && label="Outpost"
    [[ $t == nginx-w1 ]] && label="nginx, 1 worker"
    [[ $t == nginx-w2 ]] && label="nginx, 2 workers"
    [[ $t == "$best" ]] && label="$label *"
    # shellcheck disable=SC2086
    printf '  %-22s %10.0f %14s %8s %8s %7s %9ss %13.0f\n' "$label" "${MED[$t]}" "($(minmax ${RPS[$t]}))" \
        "$(median ${P50[$t]})" "$(median ${P99[$t]})" "${ERRS[$t]}" "$(median ${OTHER[$t]})" "$(median ${EFF[$t]})"
done
echo "  * tuned nginx = the faster of the two"
echo
idle_mib=$(awk -v k="$idle_rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')
printf '  %-38s %8s   target >= 0.90: %s\n' "Outpost / tuned nginx (req/s)" "$ratio" "$(verdict "$ratio" 0.90 ge)"
# shellcheck disable=SC2086 # the values are space-separated lists
eff_ratio=$(awk -v a="$(median ${EFF[outpost]})" -v b="$(median ${EFF[$best]})" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
printf '  %-38s %8s   (requests per server CPU-second; informational)\n' "Outpost / tuned nginx (req/server_s)" "$eff_ratio"
printf '  %-38s %8s   target <= 30 MiB: %s\n' "idle RSS after start + 5 requests (MiB)" "$idle_mib" "$(verdict "$idle_mib" 30 le)"
printf '  %-38s %8s   target <= 200 ms: %s\n' "start to first 200, median of $STARTS (ms)" "$start_median" "$(verdict "$start_median" 200 le)"
printf '  %-38s %8s\n' "start to first 200, new data dir (ms)" "$first_start"
printf '  %-38s %8s\n' "RSS after the load (MiB); peak" "$(awk -v k="$rss_after_kib" -v h="$hwm_kib" 'BEGIN { printf "%.1f; %.1f", k / 1024, h / 1024 }')"
# shellcheck disable=SC2086 # the values are space-separated lists
other_max=$(printf '%s\n' ${OTHER[outpost]} ${OTHER[nginx-w1]} ${OTHER[nginx-w2]} | sort -g | tail -n1)
if awk -v o="$other_max" -v c="$((NPROC * DURATION))" 'BEGIN { exit !(o > 0.10 * c) }'; then
    echo
    echo "  NOTE: other processes used up to ${other_max} CPU-s of $((NPROC * DURATION)) in a run; the figures are noisy. Rerun when the machine is quiet."
fi
exit 0

# Shared by the benchmark scripts in this directory: process cleanup, ports, waiting, wrk output
# parsing, statistics, and the settings every script takes (common_settings). It defines die()
# only if the caller has not.
declare -F die >/dev/null || die() { echo "bench: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Processes we start, stopped on any exit.
PIDS=()
TMP=""
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
    local pid i
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do # up to 5 s each, then SIGKILL
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    PIDS=()
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ $KEEP_TMP == 1 ]]; then echo "(kept $TMP)"; else rm -rf "$TMP"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # drop $1 from PIDS
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

stop_pid() { # SIGTERM, wait up to 5 s, then SIGKILL
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    forget_pid "$pid"
}

# ---------------------------------------------------------------------------------------------
# Helpers

port_in_use() { # true if something listens on 127.0.0.1:$1
    if command -v ss >/dev/null; then
        [[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]]
    else
        { exec {_fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
        exec {_fd}>&-
        return 0
    fi
}

free_port() { # sets FREE_PORT to a port nothing listens on (checked, not reserved)
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        port_in_use "$p" || { FREE_PORT=$p; return 0; }
    done
    die "no free port found"
}

health_is_200() { # one GET /api/health on its own connection, without forking
    local port=$1 fd line
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
    printf 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&"$fd"
    IFS= read -r -t 2 line <&"$fd"
    exec {fd}>&-
    [[ $line == "HTTP/1.1 200"* ]]
}

wait_http_200() { # $1 url; up to 10 s
    local i
    for ((i = 0; i < 200; i++)); do
        [[ $(curl -s -m 2 -o /dev/null -w '%{http_code}' "$1") == 200 ]] && return 0
        sleep 0.05
    done
    return 1
}

proc_cpu_ticks() { # utime+stime (all threads) of the given pids
    local sum=0 pid f
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        f=$(<"/proc/$pid/stat")
        f=${f##*) } # fields from 3 on; comm may contain spaces
        read -r -a a <<<"$f"
        sum=$((sum + a[11] + a[12]))
    done
    echo "$sum"
}

busy_ticks() { # all CPUs, non-idle
    local _cpu user nice system _idle _iowait irq softirq steal _rest
    read -r _cpu user nice system _idle _iowait irq softirq steal _rest </proc/stat
    echo $((user + nice + system + irq + softirq + steal))
}

to_ms() { # wrk duration (e.g. 692.00us, 1.03ms, 2.10s) -> ms
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
        printf "%.2f", n }'
}

median() { # of the arguments
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

minmax() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f..%.0f", lo, hi }'; }

start_outpost() { # $1 data dir, $2 port, $3 log; sets OUTPOST_PID
    local args=(serve --data-dir "$1" --listen "127.0.0.1:$2" --rate-limits "$RATE_LIMITS"
        --max-connections-per-client "$CLIENT_LIMIT" --max-inflight-per-client "$CLIENT_LIMIT")
    [[ -n $OUTPOST_THREADS ]] && args+=(--threads "$OUTPOST_THREADS")
    args+=("${OUTPOST_ARGS[@]}")
    "$OUTPOSTD" "${args[@]}" >"$3" 2>&1 &
    OUTPOST_PID=$!
    PIDS+=("$OUTPOST_PID")
}

bench_banner() { # $1 title, $2 tools: the run's header (time, machine, commit, tools, load)
    echo "== $1  $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "machine:  $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
    # shellcheck disable=SC2153 # ROOT is set by the sourcing script
    echo "commit:   $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- backend app 2>/dev/null || echo ' (+ uncommitted changes in backend/ or app/)')"
    echo "tools:    $2"
    echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) before starting"
}

# ---------------------------------------------------------------------------------------------
# The record API fixture shared by data_bench.sh and login_storm.sh: a server with one superuser
# and a public `bench` collection, seeded, and the W1 load (GET one record by id).
EMAIL=bench@example.com
PASSWORD=bench-password-123

start_bench_server() { # outpostd on a fresh $TMP/data with one superuser; sets BASE, SERVER_PID, TOKEN
    printf '%s\n' "$PASSWORD" | "$OUTPOSTD" superuser create "$EMAIL" --data-dir "$TMP/data" >/dev/null 2>&1 \
        || die "superuser create failed"
    free_port
    OUTPOST_PORT=$FREE_PORT
    start_outpost "$TMP/data" "$OUTPOST_PORT" "$TMP/outpost.log"
    # shellcheck disable=SC2034 # read by the scripts that source this file
    SERVER_PID=$OUTPOST_PID
    BASE="http://127.0.0.1:$OUTPOST_PORT"
    wait_http_200 "$BASE/api/health" || { cat "$TMP/outpost.log" >&2; die "outpostd did not start"; }
    TOKEN=$(curl -s -m 10 "$BASE/api/collections/_superusers/auth-with-password" -H 'Content-Type: application/json' \
        -d "{\"identity\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [[ -n $TOKEN ]] || die "login failed"
}

create_bench_collection() { # `bench`: title, category, score, body; an index on (category, score); public rules
    local status
    status=$(curl -s -m 10 -o "$TMP/collection.json" -w '%{http_code}' "$BASE/api/collections" \
        -H "Authorization: $TOKEN" -H 'Content-Type: application/json' -d '{
          "name": "bench",
          "fields": [{"name": "title", "type": "text", "required": true, "max": 200},
                     {"name": "category", "type": "text", "required": true},
                     {"name": "score", "type": "number"},
                     {"name": "body", "type": "text"}],
          "indexes": ["CREATE INDEX idx_bench_category_score ON bench (category, score)"],
          "listRule": "", "viewRule": "", "createRule": ""}')
    [[ $status == 200 ]] || { cat "$TMP/collection.json" >&2; die "creating the collection failed ($status)"; }
}

seed_bench_records() { # $1 rows, in batches of 50 (POST /api/batch), four requests at a time
    local rows=$1 t0 t1 bad
    echo "Seeding $rows records (POST /api/batch, 50 per request, 4 in parallel) ..."
    mkdir -p "$TMP/seed"
    awk -v rows="$rows" -v dir="$TMP/seed" 'BEGIN {
        srand(42)
        for (b = 0; b * 50 < rows; b++) {
            f = sprintf("%s/%06d.json", dir, b)
            printf "{\"requests\":[" > f
            for (i = 0; i < 50 && b * 50 + i < rows; i++) {
                n = b * 50 + i
                printf "%s{\"method\":\"POST\",\"url\":\"/api/collections/bench/records\",\"body\":{\"title\":\"record %d\",\"category\":\"c%d\",\"score\":%d,\"body\":\"lorem ipsum dolor sit amet %d\"}}", (i ? "," : ""), n, n % 100, int(rand() * 100000), n > f
            }
            printf "]}" > f
            close(f)
        }
    }'
    t0=${EPOCHREALTIME/./}
    find "$TMP/seed" -name '*.json' -print0 | sort -z \
        | xargs -0 -P 4 -I{} curl -s -m 60 -o /dev/null -w '%{http_code}\n' "$BASE/api/batch" \
            -H "Authorization: $TOKEN" -H 'Content-Type: application/json' --data-binary @{} >"$TMP/seed.status"
    t1=${EPOCHREALTIME/./}
    bad=$(grep -vc '^200$' "$TMP/seed.status")
    ((bad == 0)) || die "$bad seeding batches failed"
    echo "  $rows records in $(awk -v us="$((t1 - t0))" 'BEGIN { printf "%.1f", us / 1e6 }') s"
}

write_w1_script() { # $TMP/ids.txt (1,000 ids) and $TMP/w1.lua: GET one of them at random
    curl -s -m 30 "$BASE/api/collections/bench/records?perPage=1000&fields=id&skipTotal=1" -H "Authorization: $TOKEN" \
        | grep -o '"id":"[a-z0-9]*"' | cut -d'"' -f4 >"$TMP/ids.txt"
    [[ $(wc -l <"$TMP/ids.txt") -eq 1000 ]] || die "could not read 1000 ids"
    {
        echo "local ids = {"
        sed 's/.*/"&",/' "$TMP/ids.txt"
        echo "}"
        echo 'request = function() return wrk.format("GET", "/api/collections/bench/records/" .. ids[math.random(#ids)]) end'
    } >"$TMP/w1.lua"
}

start_nginx() { # $1 workers, $2 document root, $3 state dir; sets NGINX_PORT, NGINX_PID (added to PIDS)
    local w=$1 root=$2 d=$3 user=""
    [[ $(id -u) == 0 ]] && user="user $(id -un) $(id -gn);" # workers run as the current user
    mkdir -p "$d"
    free_port
    NGINX_PORT=$FREE_PORT
    cat >"$d/nginx.conf" <<EOF
$user
worker_processes $w;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    open_file_cache max=100;
    open_file_cache_valid 60s;
    etag off;
    types { }
    default_type application/json;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $root;
    }
}
EOF
    "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
}

ensure_tools() { # installs wrk, nginx-light and curl when missing (as root); sets NGINX
    NGINX=$(command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true)
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    [[ -n $NGINX ]] || missing+=(nginx-light)
    command -v curl >/dev/null || missing+=(curl)
    if ((${#missing[@]})); then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            echo "Installing ${missing[*]} ..."
            DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null || die "apt-get install failed"
            NGINX=$(command -v nginx || echo /usr/sbin/nginx)
        else
            die "missing ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}"
        fi
    fi
    [[ -x $NGINX ]] || die "nginx not found"
}

build_release() { # builds outpostd in build/release unless BUILD=0
    [[ ${BUILD:-1} == 1 ]] || return 0
    echo "Building Release (cmake --preset release && cmake --build --preset release --target outpostd) ..."
    (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release --target outpostd >/dev/null) \
        || die "Release build failed (run the two cmake commands above to see why)"
}

wrk_figures() { # $1 wrk output file -> "rps p50_ms p99_ms errors"
    local rps p50 p99 errs
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$1")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$1")")
    errs=$(awk '/Socket errors:/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i } /Non-2xx/ { n += $NF } END { print n + 0 }' "$1")
    echo "${rps:-none} $p50 $p99 $errs"
}

common_settings() { # the settings every benchmark script shares (described in each script's header)
    DURATION=${DURATION:-10}
    ROUNDS=${ROUNDS:-3}
    WARMUP=${WARMUP:-2}
    CONNECTIONS=${CONNECTIONS:-64}
    WRK_THREADS=${WRK_THREADS:-2}
    OUTPOST_THREADS=${OUTPOST_THREADS:-}
    # Every request takes a token from its bucket, as in production, but none is ever refused: one
    # wrk client is one caller, far above any real limit.
    RATE_LIMITS=${RATE_LIMITS:-auth:1000000/1s, read:1000000/1s, write:1000000/1s, admin:1000000/1s}
    # wrk is one client address with up to CONNECTIONS connections: above the per-client defaults
    # (256 connections, 64 requests in flight), which a benchmark is not about.
    CLIENT_LIMIT=${CLIENT_LIMIT:-100000}
    declare -ga OUTPOST_ARGS # more outpostd flags, set by a script between server starts
    BUILD=${BUILD:-1}
    KEEP_TMP=${KEEP_TMP:-0}
    OUTPOSTD=${OUTPOSTD:-}
    [[ -n $OUTPOSTD ]] && BUILD=0
    : "${OUTPOSTD:=$ROOT/build/release/app/outpostd}"
    [[ -z $OUTPOST_THREADS || $OUTPOST_THREADS =~ ^[0-9]+$ ]] || die "OUTPOST_THREADS must be a whole number"
    require_whole 20000 CONNECTIONS
}

require_whole() { # $1 maximum, then variable names: each must hold a whole number from 1 to the maximum
    local max=$1 v
    shift
    for v in "$@"; do
        if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} > max)); then
            die "$v must be a whole number from 1 to $max"
        fi
    done
}

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time.
#   bash tests/fuzz/run.sh [SECONDS]      (default 30 per target)
# New inputs found go to a temporary directory; the kept seed corpus is tests/fuzz/corpus/<target>.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-30}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$root"

flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fPIC
       -DQT_NO_CAST_FROM_ASCII -DQT_USE_QSTRINGBUILDER -Ibackend)
read -r -a qt_cflags <<<"$(pkg-config --cflags Qt6Core)"
read -r -a qt_libs <<<"$(pkg-config --libs Qt6Core)"

build() { # name sources...
    local name=$1
    shift
    echo "== building $name"
    clang++ "${flags[@]}" "${qt_cflags[@]}" "$@" "${qt_libs[@]}" -o "$out/$name"
}

build fuzz_filter tests/fuzz/fuzz_filter.cpp backend/data/filter.cpp backend/data/filterlexer.cpp \
    backend/data/filtersql.cpp backend/data/filtervalues.cpp
build fuzz_record tests/fuzz/fuzz_record.cpp backend/data/field.cpp backend/data/fieldformats.cpp \
    backend/data/fieldvalidation.cpp

for target in fuzz_filter fuzz_record; do
    corpus="tests/fuzz/corpus/${target#fuzz_}"
    mkdir -p "$out/new-$target"
    seeds=()
    [ -d "$corpus" ] && seeds=("$corpus")
    echo "== running $target for ${seconds}s"
    ASAN_OPTIONS=detect_leaks=1 "$out/$target" -max_total_time="$seconds" -max_len=4200 -print_final_stats=1 \
        "$out/new-$target" "${seeds[@]}" 2>&1 | tail -n 12
done
echo "fuzz: ok"

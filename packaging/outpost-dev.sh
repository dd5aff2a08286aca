#!/usr/bin/env bash
# The project's front door (see README):
#   packaging/outpost-dev.sh run [OUTPOST FLAGS...]  install what is missing, build, start Outpost
#   packaging/outpost-dev.sh test                    install what is missing, build, run every test
#   packaging/outpost-dev.sh asan                    the same tests built with ASan + UBSan
#   packaging/outpost-dev.sh format-check            clang-format --dry-run -Werror on all sources
#   packaging/outpost-dev.sh fuzz [SECONDS]          libFuzzer targets (clang, ASan + UBSan), bounded
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Debian 12 packages: the build (compiler, CMake, Qt 6.4, SQLite, libargon2, OpenSSL, john-data's
# common-password list) and the tests (prometheus for `promtool check metrics`).
packages=(
    g++ cmake ninja-build pkg-config git
    qt6-base-dev qt6-httpserver-dev qt6-websockets-dev qt6-charts-dev libqt6opengl6-dev
    libsqlite3-dev libargon2-dev libssl-dev
    clang-format openssl john-data prometheus
    clang libclang-rt-14-dev
)
# Node.js and npm run the JS SDK and OpenAPI lint tests; a machine that already has them keeps its own.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

install_missing() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing missing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() { # preset
    cmake --preset "$1" >/dev/null
    cmake --build --preset "$1"
}

jobs=$(nproc)
case "${1:-}" in
run)
    shift
    install_missing
    build dev
    # The console when a display is available; otherwise outpost itself falls back to headless.
    exec "$root/build/dev/app/outpost" "$@"
    ;;
test)
    install_missing
    build dev
    ctest --preset dev -j "$jobs"
    ;;
asan)
    install_missing
    build asan
    ctest --preset asan -j "$jobs"
    ;;
fuzz)
    install_missing
    bash "$root/tests/fuzz/run.sh" "${2:-30}"
    ;;
format-check)
    install_missing
    git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror
    echo "format: ok"
    ;;
*)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac

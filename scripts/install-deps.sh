#!/usr/bin/env bash
# Installs the Debian packages that certfleet's build, tests, demo and benchmarks need.
# Idempotent: packages already installed are skipped, and apt is not touched when none is missing.
set -euo pipefail

build_packages=(
    cmake ninja-build g++ pkg-config make
    libboost1.81-dev libssl-dev nlohmann-json3-dev libc-ares-dev doctest-dev
    libsqlitecpp-dev libsqlite3-dev libtomlplusplus-dev libcli11-dev libhowardhinnant-date-dev
    openssl ca-certificates
)
test_packages=(
    bind9-dnsutils knot-dnsutils nsd unbound pebble lego nginx python3
    clang libclang-rt-14-dev prometheus curl chromium fonts-dejavu-core
    g++-mingw-w64-x86-64-posix wine64
)
bench_packages=(dnsperf knot libjemalloc2)

wanted=("${build_packages[@]}")
case "${1:-all}" in
    build) ;;
    test) wanted+=("${test_packages[@]}") ;;
    all) wanted+=("${test_packages[@]}" "${bench_packages[@]}") ;;
    *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

# Node.js runs the test-only npm tools (tests/tools): Debian's, unless the machine has one.
if [ "${1:-all}" != build ] && ! command -v npm >/dev/null 2>&1; then
    wanted+=(nodejs npm)
fi

# The npm tools the tests use, pinned by tests/tools/package-lock.json.
npm_tools() {
    [ "${1:-all}" = build ] && return 0
    local tools
    tools="$(dirname "$0")/../tests/tools"
    if [ ! -d "$tools/node_modules" ] || [ "$tools/package-lock.json" -nt "$tools/node_modules" ]; then
        echo "installing the test tools from npm (tests/tools)" >&2
        npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error >/dev/null
        touch "$tools/node_modules"
    fi
}

missing=()
for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    npm_tools "${1:-all}"
    exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Debian's service packages (nsd, unbound, nginx) would start system-wide daemons on install;
# the tests start their own on loopback, so keep the package scripts from starting any.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
fi
trap '[ $created_policy -eq 1 ] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
npm_tools "${1:-all}"

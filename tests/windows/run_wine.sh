#!/usr/bin/env bash
# Runs a Windows program under Wine in a fresh prefix of its own (a temporary directory, removed
# afterwards with the prefix's wineserver). Usage: run_wine.sh PROGRAM.exe [ARGS...]
# The first start of a prefix takes several seconds (Wine sets it up).
set -euo pipefail
wine=${CERTFLEET_WINE:-/usr/lib/wine/wine64}
wineserver=${CERTFLEET_WINESERVER:-$(dirname "$wine")/wineserver}
prefix=$(mktemp -d "${TMPDIR:-/tmp}/certfleet-wine.XXXXXX")
cleanup() {
    WINEPREFIX=$prefix "$wineserver" -k 2>/dev/null || true
    rm -rf "$prefix"
}
trap cleanup EXIT
export WINEPREFIX=$prefix WINEDEBUG=-all
"$wine" "$@"

#!/usr/bin/env bash
# bench/issue: 50 two-name certificates from Pebble (PEBBLE_VA_NOSLEEP=1) through NSD, unbound
# and certfleet's own DNS authority, with concurrency 1 and 16; once with the client's default
# first poll (50 ms) and once polling from 10 ms, which shows the client's own overhead next to
# the ~25 ms per certificate that Pebble needs. One figure a line.
set -euo pipefail
build=${1:-build/default}
for first_poll in 50 10; do
    "$build/bench/issue/bench_issue" "${CERTIFICATES:-50}" "$first_poll"
done
# certfleet serve (store, scheduler, preflight) against the client-alone floor, same Pebble.
"$build/bench/issue/bench_backend" "${BACKEND_CERTIFICATES:-30}"

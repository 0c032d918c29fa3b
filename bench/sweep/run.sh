#!/usr/bin/env bash
# bench/sweep: plan renewals over 100,000 and 1,000,000 synthetic stored certificates; seconds
# and peak resident memory of the planning for each (goal: 1,000,000 in under 2 s and 300 MiB),
# and the seconds of one GET /metrics body over each store.
set -euo pipefail
build=${1:-build/default}
work=$(mktemp -d -t certfleet-sweep.XXXXXX)
trap 'rm -rf "$work"' EXIT
for n in ${SWEEP_SIZES:-100000 1000000}; do
    "$build/bench/sweep/bench_sweep" create "$work/store-$n.db" "$n"
    "$build/bench/sweep/bench_sweep" plan "$work/store-$n.db" | sed "s/^/sweep_${n}_/"
    "$build/bench/sweep/bench_sweep" metrics "$work/store-$n.db" | sed "s/^/sweep_${n}_/"
done

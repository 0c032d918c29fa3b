#!/usr/bin/env bash
# Fuzzes every libFuzzer target of a fuzz build for SECONDS each, on a copy of its seeds (the
# committed corpus in tests/fuzz/corpus/<target>/ never grows), several targets at once.
#
# usage: scripts/fuzz.sh BUILD_DIR SECONDS
#   FUZZ_JOBS   targets fuzzed at once (default: the number of CPUs)
# Work files, logs and crash reproducers go to BUILD_DIR/fuzz-work/<target>/.
# Exit codes: 0 no crash; 1 a crash, a hang, an out-of-memory or a missing target; 2 usage.
set -uo pipefail

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd) || exit 2
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
corpus_root=$root/tests/fuzz/corpus
jobs=${FUZZ_JOBS:-$(nproc)}

targets=()
for dir in "$corpus_root"/*/; do
    targets+=("$(basename "$dir")")
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "fuzz: no corpus under $corpus_root" >&2
    exit 1
fi

# Runs one target; its output goes to its log, its exit status to BUILD_DIR/fuzz-work/<t>/rc.
run_target() {
    local target=$1 binary="$build_dir/tests/fuzz/$1_fuzz" work="$build_dir/fuzz-work/$1"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp "$corpus_root/$target"/* "$work/corpus/"
    local dict=()
    [ -f "$root/tests/fuzz/dns.dict" ] && dict=(-dict="$root/tests/fuzz/dns.dict")
    "$binary" "${dict[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
    echo $? >"$work/rc"
}

for target in "${targets[@]}"; do
    if [ ! -x "$build_dir/tests/fuzz/${target}_fuzz" ]; then
        echo "fuzz: $build_dir/tests/fuzz/${target}_fuzz not built (cmake --build --preset fuzz)" >&2
        exit 1
    fi
done

echo "fuzz: ${#targets[@]} targets, ${seconds} s each, $jobs at once"
pids=()
for target in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    run_target "$target" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid"
done

failed=0
for target in "${targets[@]}"; do
    work="$build_dir/fuzz-work/$target"
    rc=$(cat "$work/rc" 2>/dev/null || echo missing)
    status=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status")
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$work/log")
    crashes=$(find "$work/artifacts" -type f | wc -l)
    echo "fuzz: ${target}_fuzz: ${runs:-?} runs, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}," \
        "corpus ${corp:-?} (seeds $(find "$corpus_root/$target" -type f | wc -l)), peak RSS ${rss:-?} MB," \
        "exit ${rc}, artifacts ${crashes}"
    if [ "$rc" != 0 ] || [ "$crashes" -ne 0 ]; then
        failed=1
        echo "fuzz: ${target}_fuzz FAILED; log $work/log; reproducers:"
        find "$work/artifacts" -type f -exec sh -c 'echo "  $1: $(od -An -v -tx1 "$1" | tr -d " \n" | head -c 600)"' _ {} \;
        grep -E 'ERROR|invariant|SUMMARY|runtime error|==[0-9]+==' "$work/log" | head -20 | sed 's/^/  /'
        echo "  replay: $build_dir/tests/fuzz/${target}_fuzz <reproducer>"
    fi
done
exit $failed

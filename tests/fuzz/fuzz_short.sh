#!/usr/bin/env bash
# ctest `fuzz_short`: builds the libFuzzer targets with the `fuzz` preset (clang) and fuzzes each
# one for a few seconds on a copy of its seeds.
#
# usage: fuzz_short.sh SOURCE_DIR [SECONDS]
#   FUZZ_BUILD_DIR  the fuzz build directory (default SOURCE_DIR/build/fuzz, the preset's)
# Exit codes: 0 no crash; 1 a crash, a hang or a build failure; 77 clang or libFuzzer missing
# (ctest reports the test as skipped; scripts/install-deps.sh installs both).
set -uo pipefail

source_dir=$(cd "${1:?usage: fuzz_short.sh SOURCE_DIR [SECONDS]}" && pwd)
seconds=${2:-15}
build_dir=${FUZZ_BUILD_DIR:-$source_dir/build/fuzz}

if ! command -v clang++ >/dev/null 2>&1; then
    echo "fuzz_short: clang++ not installed; skipped (scripts/install-deps.sh test installs it)"
    exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }' \
    >"$probe/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/probe.cpp" -o "$probe/probe" 2>"$probe/err"; then
    echo "fuzz_short: clang++ cannot link libFuzzer (libclang-rt-14-dev missing?); skipped"
    sed 's/^/  /' "$probe/err" | head -5
    exit 77
fi

mkdir -p "$build_dir"
# Two runs of the test suite (make test, make test-asan) may share build/fuzz: one at a time.
exec 9>"$build_dir/.fuzz_short.lock"
flock 9

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    echo "fuzz_short: configuring $build_dir (fuzz preset)"
    if ! (cd "$source_dir" && cmake --preset fuzz -B "$build_dir" >"$build_dir/configure.log" 2>&1); then
        echo "fuzz_short: configure failed:"
        tail -30 "$build_dir/configure.log"
        exit 1
    fi
fi
echo "fuzz_short: building the fuzz targets in $build_dir"
start=$SECONDS
if ! cmake --build "$build_dir" --target fuzzers -j "$(nproc)" >"$build_dir/build.log" 2>&1; then
    echo "fuzz_short: build failed:"
    tail -40 "$build_dir/build.log"
    exit 1
fi
echo "fuzz_short: built in $((SECONDS - start)) s"

# fuzz.sh exits 1 on any failure; never let a libFuzzer exit code (77 among them) through.
if "$source_dir/scripts/fuzz.sh" "$build_dir" "$seconds"; then
    exit 0
fi
exit 1

#!/usr/bin/env bash
# Cross-builds the Windows agent and its tests (preset "windows", build/windows), for ctest.
# Usage: build.sh SOURCE_DIR
set -euo pipefail
cd "$1"
launcher=()
if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake --preset windows "${launcher[@]}" >/dev/null
cmake --build --preset windows -j "$(nproc)"

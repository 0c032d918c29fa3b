#!/usr/bin/env bash
# ctest runs each doctest case by name; CMake splits names at ';', and such a case would then
# select nothing and pass without running. Fails when a test case's name holds a ';'.
set -euo pipefail
if grep -rnE 'TEST_CASE(_FIXTURE)?\(([^,"]*, )?"[^"]*;[^"]*"' "$(dirname "$0")" --include='*.cpp'; then
    echo "rename these test cases: a ';' in a name makes ctest run nothing for them" >&2
    exit 1
fi

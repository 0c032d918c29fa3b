#pragma once
// promtool (Debian package `prometheus`) as the judge of a Prometheus text exposition: `promtool
// check metrics` parses it and applies Prometheus' lint rules (HELP present, counters ending in
// _total, base units, ...). Exit 0 with no output means it parsed and nothing was linted.

#include <string_view>

#include "support/rig.hpp"

namespace certfleet::test {

// Writes `exposition` into `dir` and feeds it to `promtool check metrics` on its standard input.
// Throws rig_error when promtool is not installed.
[[nodiscard]] run_result promtool_check_metrics(const temp_dir& dir, std::string_view exposition);

} // namespace certfleet::test

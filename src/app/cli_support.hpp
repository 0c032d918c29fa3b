#pragma once
// What the store-backed commands share: the --config option, opening the settings and the state
// with errors turned into messages and exit codes, times and tables for humans.

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/settings.hpp"
#include "app/state.hpp"

namespace certfleet::app {

void add_config_option(CLI::App& cmd, std::string& file);

// Loads the settings and opens the state, then runs `body`. A configuration error exits 2, a
// start-up error (no database, wrong master key) exits 1; both print what to do.
int with_state(
    const std::string& config_file, const std::function<int(const server_settings&, state&)>& body
);
// The same with the settings alone.
int with_settings(
    const std::string& config_file, const std::function<int(const server_settings&)>& body
);

// RFC 3339 in UTC, to the second: "2026-12-01T11:35:26Z"; "-" for none.
[[nodiscard]] std::string format_time(std::optional<std::chrono::system_clock::time_point> t);
// The inverse of format_time; nullopt for any other form.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_time(std::string_view text
);
[[nodiscard]] std::int64_t unix_seconds(std::chrono::system_clock::time_point t);
// "in 3d 4h", "2h ago".
[[nodiscard]] std::string
relative_time(std::chrono::system_clock::time_point t, std::chrono::system_clock::time_point now);

// Columns padded to their widest cell.
void print_table(
    std::ostream& out,
    const std::vector<std::string>& header,
    const std::vector<std::vector<std::string>>& rows
);

[[nodiscard]] std::string join(const std::vector<std::string>& items, std::string_view separator);

// A duration as operators write it: "90d", "12h", "30m", "3600s" or plain seconds; nullopt for
// anything else or a value that is not positive.
[[nodiscard]] std::optional<std::int64_t> duration_seconds(const std::string& text);

} // namespace certfleet::app

#pragma once
// What the targets share: the bundle's chain cut into the files servers expect, option readers
// (for untrusted JSON: nothing here throws), running an operator's command with its outcome in
// words, and the text of the operator's programs made safe to report.

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/process.hpp"

namespace certfleet::deploy {

struct chain_files
{
    std::string cert;      // the leaf's PEM block
    std::string chain;     // the blocks after the leaf (the intermediates), maybe empty
    std::string fullchain; // all of them, leaf first
};

// Cuts a PEM chain (leaf first) at its "-----BEGIN CERTIFICATE-----" blocks; text between blocks
// is dropped, every block ends with a newline. No block: all three empty.
[[nodiscard]] chain_files split_chain_pem(std::string_view chain_pem);

// "2025-01-31T12:00:00Z" (RFC 3339, UTC, whole seconds).
[[nodiscard]] std::string utc_text(std::chrono::system_clock::time_point when);

// A program's output for a message: surrounding white space trimmed, control characters other
// than newline and tab shown as '?', and at most the last `max_bytes` bytes (the end of a log says
// what went wrong), with "..." in front when cut.
[[nodiscard]] std::string trimmed_output(std::string_view output, std::size_t max_bytes = 2000);

// Option readers: nothing when `value` is absent (null); `problem` set when it is wrong.
// A command: an array of strings (argv, the first non-empty), or a string run by "/bin/sh -c".
[[nodiscard]] std::optional<std::vector<std::string>>
command_option(const nlohmann::json& value, std::string_view name, std::string& problem);
// A whole number of seconds in [1, 86400].
[[nodiscard]] std::optional<std::chrono::seconds>
seconds_option(const nlohmann::json& value, std::string_view name, std::string& problem);
// A mode as an octal string ("0644", "640"), permission bits only (no set-id or sticky bits).
[[nodiscard]] std::optional<mode_t>
mode_option(const nlohmann::json& value, std::string_view name, std::string& problem);
// A string, non-empty.
[[nodiscard]] std::optional<std::string>
string_option(const nlohmann::json& value, std::string_view name, std::string& problem);

struct command_run
{
    bool ok = false;     // started, finished in time and exited 0
    std::string message; // `"nginx" exited with 1: <output>`, or why it did not run
    nlohmann::json details = nlohmann::json::object(); // command, exit_code, output
};

// Runs `request` and says how it went; the message names argv[0].
[[nodiscard]] command_run run_command(const process_runner& processes, process_request request);

} // namespace certfleet::deploy

#pragma once
// The certfleet command line: each command registers its options on the CLI11 app and returns
// the exit code (0 success, 1 a failure happened, 2 usage or configuration error).

#include <CLI/CLI.hpp>
#include <functional>

namespace certfleet::app {

using command_runner = std::function<int()>;

// Registers `serve`; sets `run` when it is chosen.
void add_serve_command(CLI::App& app, command_runner& run);
// Registers `domain add|check|list|remove`.
void add_domain_command(CLI::App& app, command_runner& run);
// Registers `issue`: one certificate now, through the issuer of `serve` and `renew` (over a
// temporary store when the configuration names none), written as fullchain.pem and key.pem.
void add_issue_command(CLI::App& app, command_runner& run);
// Registers `init`: configuration, master key, database.
void add_init_command(CLI::App& app, command_runner& run);
// Registers `cert add|list|show|renew|revoke|export`.
void add_cert_command(CLI::App& app, command_runner& run);
// Registers `renew`: the CI sweep.
void add_renew_command(CLI::App& app, command_runner& run);
// Registers `status` and `backup`.
void add_status_command(CLI::App& app, command_runner& run);
// Registers `acmedns register|list|show|delete`.
void add_acmedns_command(CLI::App& app, command_runner& run);

// Registers `token create|list|revoke`.
void add_token_command(CLI::App& app, command_runner& run);
// Registers `probe`: the certificate an endpoint serves, and whether SSTP answers.
void add_probe_command(CLI::App& app, command_runner& run);
// Registers `agent ...`, `deploy now` and (after add_cert_command) `cert assign`.
void add_agent_command(CLI::App& app, command_runner& run);

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

} // namespace certfleet::app

#pragma once
// certfleet-agent's commands (enroll, run, status), shared by the Linux and the Windows program:
// each platform's main() supplies the ports (agent_platform) and its own extra commands (the
// Windows service), parses the command line with add_agent_commands, and runs the one chosen.

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "deploy/agent.hpp"

namespace certfleet::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// What a platform provides. `stop` ends run() (a signal, a console event, the service manager).
struct agent_platform
{
    const deploy::crypto_port& crypto;
    const deploy::process_runner& processes;
    deploy::transport_factory connect;
    std::function<deploy::probe_result(const deploy::probe_request&)> probe;
    std::function<std::string()> host_name;
    const std::atomic<bool>& stop;
};

struct run_settings
{
    bool once = false;
    int poll_seconds = 25;
    int drift_minutes = 15;
};

// The agent for a state directory, with the system clock, a stop-aware sleep and a random source.
[[nodiscard]] std::unique_ptr<deploy::agent>
make_agent(const agent_platform& platform, const std::string& state_dir, const run_settings& run);

// `token` "-" reads it from standard input.
int enroll_command(const agent_platform& platform, const std::string& state_dir, std::string token);
// Returns when the stop flag is set (or at once with `once`).
int run_command(const agent_platform& platform, const std::string& state_dir, run_settings run);
int status_command(const agent_platform& platform, const std::string& state_dir, bool json);

// The options the commands read, filled in by the parser.
struct agent_arguments
{
    std::string state_dir;
    std::string token;
    run_settings run;
    bool json = false;
};

// Adds enroll, run and status to `app`; the chosen one is left in `command`.
void add_agent_commands(
    CLI::App& app,
    agent_arguments& arguments,
    std::function<int(const agent_platform&)>& command,
    const std::string& run_help
);

// The program's command line: the common commands, a platform adds its own to `app`.
struct agent_program
{
    agent_program(std::string default_state_dir, const std::string& run_help);
    // Parses argv; an exit code when the program must end now (help, a usage error).
    [[nodiscard]] std::optional<int> parse(int argc, char** argv);

    CLI::App app;
    agent_arguments arguments;
    std::function<int(const agent_platform&)> command;
};

// body(), with an exception reported on stderr as a failure (exit_failure).
[[nodiscard]] int guarded(const std::function<int()>& body);

} // namespace certfleet::app

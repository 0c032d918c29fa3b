#include "app/agent_cli.hpp"

#include <iostream>
#include <random>
#include <thread>

#include "app/log.hpp"
#include "deploy/errc.hpp"

#ifndef CERTFLEET_VERSION
#define CERTFLEET_VERSION "unknown"
#endif

namespace certfleet::app {
namespace {

namespace dep = certfleet::deploy;

void log_line(dep::log_level level, std::string_view line)
{
    static constexpr app::level levels[] = {
        app::level::debug, app::level::info, app::level::warn, app::level::error};
    app::log(levels[static_cast<int>(level)], line);
}

std::string time_text(const std::optional<dep::time_point>& t)
{
    return t ? dep::format_utc(*t) : "-";
}

nlohmann::json time_json(const std::optional<dep::time_point>& t)
{
    return t ? nlohmann::json(dep::format_utc(*t)) : nlohmann::json(nullptr);
}

nlohmann::json version_json(const std::optional<std::int64_t>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json status_json(const dep::agent_status& s)
{
    auto assignments = nlohmann::json::array();
    for (const auto& a : s.assignments) {
        assignments.push_back({
            {"id", a.id},
            {"certificate", a.certificate},
            {"target", a.target},
            {"staged_version", version_json(a.staged_version)},
            {"deployed_version", version_json(a.deployed_version)},
            {"deployed_not_after", time_json(a.deployed_not_after)},
            {"deployed_at", time_json(a.deployed_at)},
            {"last_status", a.last_status},
            {"last_message", a.last_message},
            {"next_step", a.next_step},
        });
    }
    return {
        {"agent", s.agent},
        {"server", s.server_url},
        {"last_contact", time_json(s.last_contact)},
        {"window_set", s.window_set},
        {"window_open", s.window_open},
        {"next_opening", time_json(s.next_opening)},
        {"unsent_reports", s.unsent_reports},
        {"assignments", assignments},
    };
}

void print_status(const dep::agent_status& s)
{
    std::cout << "agent " << s.agent << " of " << s.server_url << '\n'
              << "last contact: " << time_text(s.last_contact) << '\n'
              << "window: "
              << (!s.window_set   ? "none set (bundles are applied at once)"
                  : s.window_open ? "open now"
                                  : "next opening at " + time_text(s.next_opening))
              << '\n';
    if (s.unsent_reports > 0) {
        std::cout << "reports waiting for the server: " << s.unsent_reports << '\n';
    }
    if (s.assignments.empty()) {
        std::cout << "no assignments yet\n";
    }
    for (const auto& a : s.assignments) {
        std::cout << "assignment " << a.id << " (certificate " << a.certificate << ", target "
                  << a.target << "): deployed "
                  << (a.deployed_version ? "version " + std::to_string(*a.deployed_version) +
                                               " valid until " + time_text(a.deployed_not_after)
                                         : std::string("nothing yet"));
        if (a.staged_version) {
            std::cout << "; staged version " << *a.staged_version;
        }
        std::cout << '\n';
        if (!a.last_status.empty()) {
            std::cout << "  last: " << a.last_message << '\n';
        }
        std::cout << "  next: " << a.next_step << '\n';
    }
}

} // namespace

std::unique_ptr<dep::agent>
make_agent(const agent_platform& platform, const std::string& state_dir, const run_settings& run)
{
    dep::agent_options options;
    options.drift_interval = std::chrono::minutes{run.drift_minutes};
    options.state_dir = state_dir;
    options.version = CERTFLEET_VERSION;
    options.poll_wait = std::chrono::seconds{run.once ? 0 : run.poll_seconds};
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    const std::atomic<bool>* stop = &platform.stop;
    dep::agent_ports ports{
        .connect = platform.connect,
        .crypto = platform.crypto,
        .processes = platform.processes,
        .probe = platform.probe,
        .apply = {},
        .clock = [] { return std::chrono::system_clock::now(); },
        // Sleeps in short slices so that a stop request ends the wait.
        .sleep =
            [stop](std::chrono::milliseconds d) {
                const auto until = std::chrono::steady_clock::now() + d;
                while (!stop->load() && std::chrono::steady_clock::now() < until) {
                    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
                        std::chrono::milliseconds{200},
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            until - std::chrono::steady_clock::now()
                        ) + std::chrono::milliseconds{1}
                    ));
                }
            },
        .random = [rng] { return (*rng)(); },
        .log = log_line,
    };
    return std::make_unique<dep::agent>(std::move(ports), std::move(options));
}

int enroll_command(const agent_platform& platform, const std::string& state_dir, std::string token)
{
    if (token == "-") {
        std::getline(std::cin, token);
    }
    std::string problem;
    if (!dep::decode_join_token(token, &problem)) {
        std::cerr << "certfleet-agent: the join token is not valid: " << problem << '\n';
        return exit_usage;
    }
    const auto agent = make_agent(platform, state_dir, {});
    const auto r = agent->enroll(token, platform.host_name(), &problem);
    if (!r) {
        std::cerr << "certfleet-agent: enrollment failed: " << problem << '\n';
        return r.error() == boost::system::errc::file_exists ? exit_usage : exit_failure;
    }
    std::cout << "enrolled; state in " << state_dir
              << ". Start the agent with `certfleet-agent run` (or its service).\n";
    return exit_ok;
}

int run_command(const agent_platform& platform, const std::string& state_dir, run_settings run)
{
    const auto agent = make_agent(platform, state_dir, run);
    std::string problem;
    if (const auto loaded = agent->load(&problem); !loaded) {
        std::cerr << "certfleet-agent: " << problem << '\n';
        return loaded.error() == dep::errc::not_enrolled ? exit_usage : exit_failure;
    }
    if (run.once) {
        const auto outcome = agent->run_once();
        if (outcome.error) {
            std::cerr << "certfleet-agent: " << outcome.problem << '\n';
            return exit_failure;
        }
        return exit_ok;
    }
    app::log(
        app::level::info, "certfleet-agent " CERTFLEET_VERSION " running, state in " + state_dir
    );
    if (agent->run(platform.stop)) {
        return exit_failure; // logged by the agent
    }
    app::log(app::level::info, "stopped");
    return exit_ok;
}

int status_command(const agent_platform& platform, const std::string& state_dir, bool json)
{
    const auto agent = make_agent(platform, state_dir, {});
    std::string problem;
    const auto s = agent->status(&problem);
    if (!s) {
        std::cerr << "certfleet-agent: " << problem << '\n';
        return s.error() == dep::errc::not_enrolled ? exit_usage : exit_failure;
    }
    if (json) {
        std::cout << status_json(*s).dump(2) << '\n';
    } else {
        print_status(*s);
    }
    return exit_ok;
}

void add_agent_commands(
    CLI::App& app,
    agent_arguments& arguments,
    std::function<int(const agent_platform&)>& command,
    const std::string& run_help
)
{
    auto* enroll = app.add_subcommand("enroll", "Enroll this host with a join token");
    enroll
        ->add_option(
            "--token", arguments.token,
            "The join token (`certfleet agent token create`); - reads it from standard input"
        )
        ->required();
    enroll->add_option("--state-dir", arguments.state_dir, "The agent's state directory")
        ->capture_default_str();
    enroll->callback([&] {
        command = [&](const agent_platform& p) {
            return enroll_command(p, arguments.state_dir, arguments.token);
        };
    });

    auto* run = app.add_subcommand("run", run_help);
    run->add_option("--state-dir", arguments.state_dir, "The agent's state directory")
        ->capture_default_str();
    run->add_flag(
        "--once", arguments.run.once, "One poll (answered at once when nothing waits), then exit"
    );
    run->add_option(
           "--poll-seconds", arguments.run.poll_seconds, "How long the server may hold a poll"
    )
        ->check(CLI::Range(1, 55))
        ->capture_default_str();
    run->add_option(
           "--drift-minutes", arguments.run.drift_minutes,
           "How often to probe deployed endpoints for drift (0: never)"
    )
        ->check(CLI::Range(0, 24 * 60))
        ->capture_default_str();
    run->callback([&] {
        command = [&](const agent_platform& p) {
            return run_command(p, arguments.state_dir, arguments.run);
        };
    });

    auto* status = app.add_subcommand("status", "What is deployed and staged, and the next window");
    status->add_option("--state-dir", arguments.state_dir, "The agent's state directory")
        ->capture_default_str();
    status->add_flag("--json", arguments.json, "Print JSON");
    status->callback([&] {
        command = [&](const agent_platform& p) {
            return status_command(p, arguments.state_dir, arguments.json);
        };
    });
}

agent_program::agent_program(std::string default_state_dir, const std::string& run_help)
    : app{"certfleet-agent: installs the certificates a certfleet server assigns to this host"}
{
    app.footer("Exit codes: 0 success, 1 a failure happened, 2 usage or configuration error.");
    app.require_subcommand(1);
    arguments.state_dir = std::move(default_state_dir);
    add_agent_commands(app, arguments, command, run_help);
}

std::optional<int> agent_program::parse(int argc, char** argv)
{
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    if (!command) {
        return exit_usage;
    }
    return std::nullopt;
}

int guarded(const std::function<int()>& body)
{
    try {
        return body();
    } catch (const std::exception& e) {
        std::cerr << "certfleet-agent: " << e.what() << '\n';
        return exit_failure;
    }
}

} // namespace certfleet::app

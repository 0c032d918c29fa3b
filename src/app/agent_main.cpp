// certfleet-agent: enrolls with a certfleet server, then long-polls it for certificate bundles and
// applies them with its targets inside the deployment windows (DESIGN section 6).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <random>
#include <thread>

#include "app/log.hpp"
#include "deploy/agent.hpp"
#include "deploy/errc.hpp"
#include "deploy/https_transport.hpp"
#include "deploy/openssl_crypto.hpp"
#include "deploy/posix_process.hpp"

#ifndef CERTFLEET_VERSION
#define CERTFLEET_VERSION "unknown"
#endif

namespace {

using namespace certfleet;
namespace dep = certfleet::deploy;

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int /*signal*/)
{
    stop_requested = true;
}

void install_stop_handlers()
{
    struct sigaction action
    {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

// Sleeps in short slices so that a stop signal ends the wait.
void sleep_unless_stopped(std::chrono::milliseconds d)
{
    const auto until = std::chrono::steady_clock::now() + d;
    while (!stop_requested && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds{200}, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                until - std::chrono::steady_clock::now()
                                            ) + std::chrono::milliseconds{1}
        ));
    }
}

void log_line(dep::log_level level, std::string_view line)
{
    static constexpr app::level levels[] = {
        app::level::debug, app::level::info, app::level::warn, app::level::error};
    app::log(levels[static_cast<int>(level)], line);
}

struct platform
{
    dep::openssl_crypto crypto;
    dep::posix_process_runner processes;
    std::mt19937_64 rng{std::random_device{}()};
};

dep::agent make_agent(
    platform& p,
    const std::string& state_dir,
    std::chrono::seconds poll,
    std::chrono::minutes drift = std::chrono::minutes{15}
)
{
    dep::agent_options options;
    options.drift_interval = drift;
    options.state_dir = state_dir;
    options.version = CERTFLEET_VERSION;
    options.poll_wait = poll;
    dep::agent_ports ports{
        .connect = dep::https_transport_factory(
            std::string("certfleet-agent/") + CERTFLEET_VERSION, &stop_requested
        ),
        .crypto = p.crypto,
        .processes = p.processes,
        .probe = [](const dep::probe_request& r) { return dep::run_probe(r); },
        .apply = {},
        .clock = [] { return std::chrono::system_clock::now(); },
        .sleep = sleep_unless_stopped,
        .random = [&p] { return p.rng(); },
        .log = log_line,
    };
    return dep::agent(std::move(ports), std::move(options));
}

std::string host_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) {
        return "unknown";
    }
    return name;
}

int enroll_command(const std::string& state_dir, std::string token)
{
    if (token == "-") {
        std::getline(std::cin, token);
    }
    std::string problem;
    if (!dep::decode_join_token(token, &problem)) {
        std::cerr << "certfleet-agent: the join token is not valid: " << problem << '\n';
        return exit_usage;
    }
    platform p;
    auto agent = make_agent(p, state_dir, std::chrono::seconds{25});
    const auto r = agent.enroll(token, host_name(), &problem);
    if (!r) {
        std::cerr << "certfleet-agent: enrollment failed: " << problem << '\n';
        return r.error() == boost::system::errc::file_exists ? exit_usage : exit_failure;
    }
    std::cout << "enrolled; state in " << state_dir
              << ". Start the agent with `certfleet-agent run` (or its service).\n";
    return exit_ok;
}

int run_command(const std::string& state_dir, bool once, int poll_seconds, int drift_minutes)
{
    platform p;
    auto agent = make_agent(
        p, state_dir, std::chrono::seconds{poll_seconds}, std::chrono::minutes{drift_minutes}
    );
    std::string problem;
    if (const auto loaded = agent.load(&problem); !loaded) {
        std::cerr << "certfleet-agent: " << problem << '\n';
        return loaded.error() == dep::errc::not_enrolled ? exit_usage : exit_failure;
    }
    if (once) {
        const auto outcome = agent.run_once();
        if (outcome.error) {
            std::cerr << "certfleet-agent: " << outcome.problem << '\n';
            return exit_failure;
        }
        return exit_ok;
    }
    install_stop_handlers();
    app::log(
        app::level::info, "certfleet-agent " CERTFLEET_VERSION " running, state in " + state_dir
    );
    const auto ec = agent.run(stop_requested);
    if (ec) {
        return exit_failure; // logged by the agent
    }
    app::log(app::level::info, "stopped");
    return exit_ok;
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

int status_command(const std::string& state_dir, bool json)
{
    platform p;
    auto agent = make_agent(p, state_dir, std::chrono::seconds{25});
    std::string problem;
    const auto s = agent.status(&problem);
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

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{
        "certfleet-agent: installs the certificates a certfleet server assigns to this host"};
    app.footer("Exit codes: 0 success, 1 a failure happened, 2 usage or configuration error.");
    app.require_subcommand(1);
    std::string state_dir = "/var/lib/certfleet-agent";
    std::string token;
    bool once = false;
    bool json = false;
    int poll_seconds = 25;
    int drift_minutes = 15;
    std::function<int()> command;

    auto* enroll = app.add_subcommand("enroll", "Enroll this host with a join token");
    enroll
        ->add_option(
            "--token", token,
            "The join token (`certfleet agent token create`); - reads it from standard input"
        )
        ->required();
    enroll->add_option("--state-dir", state_dir, "The agent's state directory")
        ->capture_default_str();
    enroll->callback([&] { command = [&] { return enroll_command(state_dir, token); }; });

    auto* run =
        app.add_subcommand("run", "Poll the server and apply bundles (until SIGTERM or SIGINT)");
    run->add_option("--state-dir", state_dir, "The agent's state directory")->capture_default_str();
    run->add_flag("--once", once, "One poll (answered at once when nothing waits), then exit");
    run->add_option("--poll-seconds", poll_seconds, "How long the server may hold a poll")
        ->check(CLI::Range(1, 55))
        ->capture_default_str();
    run->add_option(
           "--drift-minutes", drift_minutes,
           "How often to probe deployed endpoints for drift (0: never)"
    )
        ->check(CLI::Range(0, 24 * 60))
        ->capture_default_str();
    run->callback([&] {
        command = [&] {
            return run_command(state_dir, once, once ? 0 : poll_seconds, drift_minutes);
        };
    });

    auto* status = app.add_subcommand("status", "What is deployed and staged, and the next window");
    status->add_option("--state-dir", state_dir, "The agent's state directory")
        ->capture_default_str();
    status->add_flag("--json", json, "Print JSON");
    status->callback([&] { command = [&] { return status_command(state_dir, json); }; });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    try {
        return command ? command() : exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "certfleet-agent: " << e.what() << '\n';
        return exit_failure;
    }
}

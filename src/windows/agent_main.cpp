// certfleet-agent on Windows: the commands of agent_cli.cpp with the Windows ports (CNG, WinHTTP,
// CreateProcess, DPAPI), plus the service: `install` (enroll, register, start), `uninstall`, and
// `service` (what the service control manager runs). Ctrl+C and console close stop `run`.
#include <windows.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/agent_cli.hpp"
#include "app/log.hpp"
#include "deploy/agent_state.hpp"

#include "windows/cng_crypto.hpp"
#include "windows/service.hpp"
#include "windows/text.hpp"
#include "windows/win_process.hpp"
#include "windows/winhttp_transport.hpp"

#ifndef CERTFLEET_VERSION
#define CERTFLEET_VERSION "unknown"
#endif

namespace {

using namespace certfleet;
namespace dep = certfleet::deploy;

std::atomic<bool> stop_requested{false};

BOOL WINAPI on_console_event(DWORD)
{
    stop_requested = true;
    return TRUE;
}

std::string host_name()
{
    wchar_t name[256] = {};
    DWORD size = 255;
    if (!GetComputerNameExW(ComputerNameDnsHostname, name, &size)) {
        return "unknown";
    }
    return dep::narrow(name);
}

// %ProgramData%\certfleet (C:\ProgramData\certfleet on a standard installation).
std::string default_state_dir()
{
    wchar_t value[MAX_PATH] = {};
    const DWORD n = GetEnvironmentVariableW(L"ProgramData", value, MAX_PATH);
    const std::wstring base = n > 0 && n < MAX_PATH ? value : L"C:\\ProgramData";
    return dep::narrow(base + L"\\certfleet");
}

void add_service_commands(
    CLI::App& app,
    app::agent_arguments& arguments,
    std::function<int(const app::agent_platform&)>& command
)
{
    auto* install = app.add_subcommand(
        "install", "Enroll (with --token) and install and start the certfleet-agent service"
    );
    install->add_option(
        "--token", arguments.token, "The join token; without it the agent must be enrolled already"
    );
    install->add_option("--state-dir", arguments.state_dir, "The agent's state directory")
        ->capture_default_str();
    install->callback([&] {
        command = [&](const app::agent_platform& p) {
            if (!arguments.token.empty()) {
                if (const int r = app::enroll_command(p, arguments.state_dir, arguments.token)) {
                    return r;
                }
            } else if (!std::filesystem::exists(dep::identity_file(arguments.state_dir))) {
                std::cerr
                    << "certfleet-agent: not enrolled yet: give the join token with --token\n";
                return app::exit_usage;
            }
            if (const auto problem = windows::install_service(arguments.state_dir);
                !problem.empty()) {
                std::cerr << "certfleet-agent: " << problem << '\n';
                return app::exit_failure;
            }
            std::cout << "service certfleet-agent installed and started (automatic start, "
                         "LocalSystem); its log is "
                      << arguments.state_dir << "\\agent.log\n";
            return app::exit_ok;
        };
    });

    auto* uninstall = app.add_subcommand(
        "uninstall", "Stop and remove the certfleet-agent service (the state directory stays)"
    );
    uninstall->callback([&] {
        command = [](const app::agent_platform&) {
            if (const auto problem = windows::uninstall_service(); !problem.empty()) {
                std::cerr << "certfleet-agent: " << problem << '\n';
                return app::exit_failure;
            }
            std::cout << "service certfleet-agent removed\n";
            return app::exit_ok;
        };
    });

    // What the service control manager starts (install registers it); not for people.
    auto* service = app.add_subcommand("service", "");
    service->group("");
    service->add_option("--state-dir", arguments.state_dir);
    service->callback([&] {
        command = [&](const app::agent_platform& p) {
            const auto log = std::filesystem::path(arguments.state_dir) / "agent.log";
            // A service has no console: its log lines and messages go to the log file.
            std::FILE* file = _wfopen(log.wstring().c_str(), L"a");
            std::ofstream messages(log, std::ios::app);
            app::set_log_output(file);
            auto* console = std::cerr.rdbuf(messages.rdbuf());
            const bool ran = windows::run_as_service(
                [&] { return app::run_command(p, arguments.state_dir, arguments.run); },
                stop_requested
            );
            std::cerr.rdbuf(console);
            app::set_log_output(nullptr);
            if (file != nullptr) {
                std::fclose(file);
            }
            if (!ran) {
                std::cerr << "certfleet-agent: `service` is run by the service control manager; "
                             "use `run` in a console\n";
                return app::exit_usage;
            }
            return app::exit_ok;
        };
    });
}

} // namespace

int main(int argc, char** argv)
{
    app::agent_program program{
        default_state_dir(), "Poll the server and apply bundles (until Ctrl+C)"};
    add_service_commands(program.app, program.arguments, program.command);
    if (const auto code = program.parse(argc, argv)) {
        return *code;
    }
    return app::guarded([&] {
        const dep::cng_crypto crypto;
        const dep::win_process_runner processes;
        const app::agent_platform platform{
            .crypto = crypto,
            .processes = processes,
            .connect = dep::winhttp_transport_factory(
                std::string("certfleet-agent/") + CERTFLEET_VERSION, crypto, &stop_requested
            ),
            .probe = [](const dep::probe_request& r) { return dep::run_probe(r); },
            .host_name = host_name,
            .stop = stop_requested,
        };
        SetConsoleCtrlHandler(on_console_event, TRUE);
        if (program.app.got_subcommand("status") && !program.arguments.json) {
            std::cout << "service: " << windows::service_state() << '\n';
        }
        return program.command(platform);
    });
}

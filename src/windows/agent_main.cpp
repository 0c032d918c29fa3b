// certfleet-agent on Windows: the commands of agent_cli.cpp with the Windows ports (CNG, WinHTTP,
// CreateProcess); Ctrl+C and console close stop `run`.
#include <windows.h>

#include <iostream>

#include "app/agent_cli.hpp"

#include "windows/cng_crypto.hpp"
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

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{
        "certfleet-agent: installs the certificates a certfleet server assigns to this host"};
    app.footer("Exit codes: 0 success, 1 a failure happened, 2 usage or configuration error.");
    app.require_subcommand(1);
    app::agent_arguments arguments;
    arguments.state_dir = default_state_dir();
    std::function<int(const app::agent_platform&)> command;
    app::add_agent_commands(
        app, arguments, command, "Poll the server and apply bundles (until Ctrl+C)"
    );
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? app::exit_ok : app::exit_usage;
    }
    try {
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
        return command ? command(platform) : app::exit_usage;
    } catch (const std::exception& e) {
        std::cerr << "certfleet-agent: " << e.what() << '\n';
        return app::exit_failure;
    }
}

// certfleet-agent on Linux: enrolls with a certfleet server, then long-polls it for certificate
// bundles and applies them with its targets inside the deployment windows (DESIGN section 6).
// The commands are in agent_cli.cpp; this file supplies the Linux ports and the stop signals.
#include <unistd.h>

#include <csignal>

#include "app/agent_cli.hpp"
#include "deploy/https_transport.hpp"
#include "deploy/openssl_crypto.hpp"
#include "deploy/posix_process.hpp"

#ifndef CERTFLEET_VERSION
#define CERTFLEET_VERSION "unknown"
#endif

namespace {

using namespace certfleet;
namespace dep = certfleet::deploy;

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

std::string host_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) {
        return "unknown";
    }
    return name;
}

} // namespace

int main(int argc, char** argv)
{
    app::agent_program program{
        "/var/lib/certfleet-agent", "Poll the server and apply bundles (until SIGTERM or SIGINT)"};
    if (const auto code = program.parse(argc, argv)) {
        return *code;
    }
    return app::guarded([&] {
        const dep::openssl_crypto crypto;
        const dep::posix_process_runner processes;
        const app::agent_platform platform{
            .crypto = crypto,
            .processes = processes,
            .connect = dep::https_transport_factory(
                std::string("certfleet-agent/") + CERTFLEET_VERSION, &stop_requested
            ),
            .probe = [](const dep::probe_request& r) { return dep::run_probe(r); },
            .host_name = host_name,
            .stop = stop_requested,
        };
        install_stop_handlers();
        return program.command(platform);
    });
}

#include "support/rig_dns_servers.hpp"

#include <csignal>
#include <fstream>
#include <functional>
#include <sstream>

#include "support/rig_net.hpp"

namespace certfleet::test {
namespace {

constexpr int start_attempts = 3;

std::string quoted(const std::filesystem::path& p)
{
    return "\"" + p.string() + "\"";
}

std::string with_final_dot(std::string name)
{
    if (name.empty() || name.back() != '.') {
        name.push_back('.');
    }
    return name;
}

// Runs a configuration checker; throws with its output when it rejects the file.
void check_config(const std::vector<std::string>& argv)
{
    const auto r = run(argv);
    if (r.exit_code != 0) {
        throw rig_error(
            "`" + join_command(argv) + "` rejected the configuration:\n" + r.out + r.err
        );
    }
}

bool lost_port_race(child_process& p)
{
    if (p.running()) {
        return false;
    }
    const auto log = p.log();
    return log.find("already in use") != std::string::npos ||
           log.find("can't bind") != std::string::npos;
}

// Picks a port, lets `launch` write the configuration and start the server there, and waits for
// `ready`. Another process may take the port between free_port() and the server's bind: then it
// tries again with another port.
std::unique_ptr<child_process> start_on_free_port(
    std::string_view what,
    std::uint16_t& port,
    const std::function<std::unique_ptr<child_process>(std::uint16_t)>& launch,
    const std::function<bool(std::uint16_t, child_process&)>& ready
)
{
    for (int attempt = 1;; ++attempt) {
        port = free_port();
        auto process = launch(port);
        if (ready(port, *process)) {
            return process;
        }
        if (attempt < start_attempts && lost_port_race(*process)) {
            continue;
        }
        const bool exited = !process->running();
        const int status = process->stop();
        throw rig_error(
            std::string(what) + " on " + loopback(port) +
            (exited ? " exited with status " + std::to_string(status) : " did not answer in time") +
            "; the end of its log (" + process->log_file().string() + "):\n" +
            tail_lines(process->log())
        );
    }
}

} // namespace

nsd_server::nsd_server(const temp_dir& dir, nsd_options options) : port_(0)
{
    if (options.zones.empty()) {
        throw rig_error("nsd_server: no zones to serve");
    }
    auto launch = [&](std::uint16_t port) {
        const auto home = dir.subdir("nsd-" + std::to_string(port));
        std::ostringstream conf;
        conf << "server:\n"
             << "    server-count: 1\n"
             << "    ip-address: 127.0.0.1@" << port << "\n"
             << "    port: " << port << "\n"
             << "    do-ip4: yes\n"
             << "    do-ip6: no\n"
             << "    username: \"\"\n"
             << "    chroot: \"\"\n"
             << "    zonesdir: " << quoted(home) << "\n"
             << "    database: \"\"\n"
             << "    zonelistfile: " << quoted(home / "zone.list") << "\n"
             << "    xfrdfile: " << quoted(home / "xfrd.state") << "\n"
             << "    xfrdir: " << quoted(home) << "\n"
             << "    pidfile: " << quoted(home / "nsd.pid")
             << "\n"
             // The same file as its stdout and stderr: both append, so one log tells it all.
             << "    logfile: " << quoted(home / "nsd.log") << "\n"
             << "    verbosity: " << options.verbosity << "\n"
             << "    hide-version: yes\n"
             << "remote-control:\n"
             << "    control-enable: no\n";
        for (const auto& z : options.zones) {
            const auto file = dir.write(home / (z.name + ".zone"), z.text);
            check_config({"nsd-checkzone", z.name, file.string()});
            conf << "zone:\n"
                 << "    name: \"" << z.name << "\"\n"
                 << "    zonefile: " << quoted(file.filename()) << "\n";
        }
        const auto conf_file = dir.write(home / "nsd.conf", conf.str());
        check_config({"nsd-checkconf", conf_file.string()});
        return std::make_unique<child_process>(child_options{
            .argv = {"nsd", "-d", "-c", conf_file.string()},
            .log_file = home / "nsd.log",
        });
    };
    auto ready = [&](std::uint16_t port, child_process& process) {
        const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
        for (const auto& z : options.zones) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()
            );
            const bool answered = wait_for_udp_dns(
                port,
                {
                    .query = {.name = z.name, .type = dns::rr_type::soa, .flags = 0},
                    .timeout = left,
                    .process = &process,
                    // SERVFAIL until the zone is loaded; then the SOA with AA.
                    .accept = [](const decoded_response& r
                              ) { return r.rcode() == 0 && !r.answer.empty(); },
                }
            );
            if (!answered) {
                return false;
            }
        }
        return true;
    };
    process_ = start_on_free_port("nsd", port_, launch, ready);
    home_ = dir.subdir("nsd-" + std::to_string(port_));
}

void nsd_server::replace_zone(const nsd_zone& zone)
{
    const auto file = home_ / (zone.name + ".zone");
    const auto before = std::filesystem::last_write_time(file);
    std::ofstream(file, std::ios::trunc) << zone.text;
    check_config({"nsd-checkzone", zone.name, file.string()});
    // NSD reloads a zone whose file time changed: make sure it did, even within one tick.
    if (std::filesystem::last_write_time(file) <= before) {
        std::filesystem::last_write_time(file, before + std::chrono::seconds(1));
    }
    process_->signal(SIGHUP);
}

std::string nsd_server::address() const
{
    return loopback(port_);
}

unbound_resolver::unbound_resolver(const temp_dir& dir, unbound_options options) : port_(0)
{
    auto launch = [&](std::uint16_t port) {
        const auto home = dir.subdir("unbound-" + std::to_string(port));
        std::ostringstream conf;
        conf << "server:\n"
             << "    interface: 127.0.0.1\n"
             << "    port: " << port << "\n"
             << "    do-ip4: yes\n"
             << "    do-ip6: no\n"
             << "    do-udp: yes\n"
             << "    do-tcp: yes\n"
             << "    num-threads: 1\n"
             << "    access-control: 127.0.0.0/8 allow\n"
             << "    username: \"\"\n"
             << "    chroot: \"\"\n"
             << "    directory: " << quoted(home) << "\n"
             << "    pidfile: " << quoted(home / "unbound.pid") << "\n"
             << "    logfile: \"\"\n"
             << "    use-syslog: no\n"
             << "    verbosity: " << options.verbosity
             << "\n"
             // The stubs are on loopback, which unbound does not ask by default.
             << "    do-not-query-localhost: no\n"
             // No DNSSEC validation: the test zones are unsigned and have no trust anchor.
             << "    module-config: \"iterator\"\n"
             << "    cache-max-ttl: 0\n"
             << "    cache-max-negative-ttl: 0\n"
             << "    harden-referral-path: no\n"
             << "    qname-minimisation: no\n"
             << "    use-caps-for-id: no\n"
             // Outgoing queries stay off the range free_port() hands out to other servers.
             << "    outgoing-port-avoid: 0-32767\n";
        for (const auto& z : options.static_zones) {
            conf << "    local-zone: \"" << with_final_dot(z) << "\" static\n";
        }
        for (const auto& s : options.stubs) {
            conf << "    local-zone: \"" << with_final_dot(s.name) << "\" transparent\n";
        }
        for (const auto& line : options.extra_server_lines) {
            conf << "    " << line << "\n";
        }
        conf << "remote-control:\n"
             << "    control-enable: no\n";
        for (const auto& s : options.stubs) {
            conf << "stub-zone:\n"
                 << "    name: \"" << with_final_dot(s.name) << "\"\n";
            for (const auto server : s.servers) {
                conf << "    stub-addr: 127.0.0.1@" << server << "\n";
            }
        }
        const auto conf_file = dir.write(home / "unbound.conf", conf.str());
        check_config({"unbound-checkconf", conf_file.string()});
        return std::make_unique<child_process>(child_options{
            .argv = {"unbound", "-d", "-c", conf_file.string()},
            .log_file = home / "unbound.log",
        });
    };
    auto ready = [&](std::uint16_t port, child_process& process) {
        // localhost is one of unbound's built-in local zones: answered without any lookup.
        return wait_for_udp_dns(
            port,
            {
                .query = {.name = "localhost.", .type = dns::rr_type::a},
                .timeout = options.start_timeout,
                .process = &process,
                .accept = [](const decoded_response& r) { return r.rcode() == 0; },
            }
        );
    };
    process_ = start_on_free_port("unbound", port_, launch, ready);
}

std::string unbound_resolver::address() const
{
    return loopback(port_);
}

} // namespace certfleet::test

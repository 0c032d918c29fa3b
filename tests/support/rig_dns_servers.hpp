#pragma once
// Real DNS servers for integration tests, each on its own free port of 127.0.0.1 with its
// configuration, state and log in a subdirectory of the test's temp_dir:
// - nsd_server: NSD serving the customer's zones from master-file text (a provider's DNS);
// - unbound_resolver: a recursive resolver that reaches those zones (and certfleet's) through
//   stub zones, as a CA's resolver would.
// Both configurations are verified with the servers' own checkers before starting. The
// constructors return once the server answers, and throw rig_error (with the end of its log)
// when it does not. The destructors stop the servers by PID.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/rig.hpp"

namespace certfleet::test {

struct nsd_zone
{
    std::string name; // "customer.test"
    std::string text; // the zone in master-file format, SOA and NS included
};

struct nsd_options
{
    std::vector<nsd_zone> zones;
    std::chrono::milliseconds start_timeout{10'000};
    int verbosity = 1;
};

class nsd_server
{
public:
    // Writes <dir>/nsd-<port>/{nsd.conf,<zone>.zone}, starts `nsd -d -c nsd.conf` and waits until
    // it answers the SOA of every zone.
    nsd_server(const temp_dir& dir, nsd_options options);

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string address() const; // "127.0.0.1:PORT"
    [[nodiscard]] child_process& process() noexcept { return *process_; }
    int stop() { return process_->stop(); }

    // Writes a served zone's new text (checked with nsd-checkzone) and has NSD read it again
    // (SIGHUP); the caller waits for the change it needs to be answered.
    void replace_zone(const nsd_zone& zone);

private:
    std::uint16_t port_;
    std::filesystem::path home_;
    std::unique_ptr<child_process> process_;
};

struct stub_zone
{
    std::string name;                   // "customer.test"
    std::vector<std::uint16_t> servers; // ports on 127.0.0.1 of servers authoritative for it
};

struct unbound_options
{
    std::vector<stub_zone> stubs;
    // Special-use names (RFC 6761) unbound answers itself: `local-zone: static` for each, with
    // every stub zone declared `transparent` below it, so that only the stubs resolve and
    // anything else under .test gets NXDOMAIN at once instead of a lookup at the root.
    std::vector<std::string> static_zones{"test."};
    // More `server:` lines, verbatim.
    std::vector<std::string> extra_server_lines;
    std::chrono::milliseconds start_timeout{10'000};
    int verbosity = 1;
};

class unbound_resolver
{
public:
    // Writes <dir>/unbound-<port>/unbound.conf, starts `unbound -d -c unbound.conf` and waits
    // until it answers. Caching is off (cache-max-ttl and cache-max-negative-ttl 0), so every
    // query reaches the stubs and no stale TXT or NXDOMAIN survives between steps of a test.
    unbound_resolver(const temp_dir& dir, unbound_options options);

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string address() const; // "127.0.0.1:PORT"
    [[nodiscard]] child_process& process() noexcept { return *process_; }
    int stop() { return process_->stop(); }

private:
    std::uint16_t port_;
    std::unique_ptr<child_process> process_;
};

} // namespace certfleet::test

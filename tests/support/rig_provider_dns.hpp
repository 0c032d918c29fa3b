#pragma once
// A customer's DNS provider as the DNS integration tests build it: NSD serving the customer's
// zones from a temp_dir of its own and, when a test asks, the recursive resolver a CA would use
// (unbound with a stub zone at that NSD for each zone). Throws rig_error as nsd_server and
// unbound_resolver do; the servers stop by PID with the object.

#include <string>
#include <string_view>
#include <vector>

#include "support/rig.hpp"
#include "support/rig_dns_servers.hpp"

namespace certfleet::test {

// A zone in master-file text: `records` (relative to `origin`, e.g. "customer.test") after the
// SOA, the NS ns1 and its glue 127.0.0.1 that every provider zone of the tests starts with. TTL 1,
// so that no answer outlives a step of a test.
[[nodiscard]] std::string provider_zone(std::string_view origin, std::string_view records);

struct provider_dns
{
    // Starts NSD serving `zones` from a new temp_dir named after `dir_prefix`.
    provider_dns(std::string_view dir_prefix, std::vector<nsd_zone> zones);

    // Starts unbound with a stub zone at nsd for each zone it serves, then `more_stubs` (zones
    // elsewhere, or a name at nsd it does not serve: a lame delegation).
    [[nodiscard]] unbound_resolver start_resolver(std::vector<stub_zone> more_stubs = {}) const;

    temp_dir dir;
    nsd_server nsd;

private:
    std::vector<std::string> zone_names_;
};

} // namespace certfleet::test

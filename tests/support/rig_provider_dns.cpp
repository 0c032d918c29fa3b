#include "support/rig_provider_dns.hpp"

#include <utility>

namespace certfleet::test {

std::string provider_zone(std::string_view origin, std::string_view records)
{
    return "$ORIGIN " + std::string(origin) +
           ".\n"
           "$TTL 1\n"
           "@    IN SOA ns1 hostmaster 1 3600 600 86400 1\n"
           "@    IN NS  ns1\n"
           "ns1  IN A   127.0.0.1\n" +
           std::string(records);
}

provider_dns::provider_dns(std::string_view dir_prefix, std::vector<nsd_zone> zones)
    : dir(dir_prefix), nsd(dir, {.zones = zones})
{
    for (auto& z : zones) {
        zone_names_.push_back(std::move(z.name));
    }
}

unbound_resolver provider_dns::start_resolver(std::vector<stub_zone> more_stubs) const
{
    std::vector<stub_zone> stubs;
    for (const auto& name : zone_names_) {
        stubs.push_back({name, {nsd.port()}});
    }
    for (auto& s : more_stubs) {
        stubs.push_back(std::move(s));
    }
    return unbound_resolver(dir, {.stubs = std::move(stubs)});
}

} // namespace certfleet::test

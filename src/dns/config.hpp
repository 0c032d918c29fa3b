#pragma once
// The [dns] section of certfleet's TOML configuration: listeners, limits and zones.
//
//   [dns]
//   listen = ["127.0.0.1:53", "[::1]:53"]
//   tcp_idle_timeout_ms = 10000
//   max_tcp_connections = 256
//   max_udp_payload = 1232
//   challenge_ttl = 10
//
//   [[dns.zone]]
//   apex = "acme.example.net"
//   ttl = 300                       # default TTL of static records
//   soa = { mname = "ns1", rname = "hostmaster.example.net.", minimum = 10 }
//   ns = [ { name = "ns1", addresses = ["192.0.2.53", "2001:db8::53"] } ]
//   records = [ "www 300 A 192.0.2.1", "@ CAA 0 issue \"letsencrypt.org\"" ]
//   records_file = "acme.zone"      # relative to the configuration file
//
// Throws core::config_error naming the offending key.

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "dns/server.hpp"
#include "dns/zone.hpp"

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace certfleet::dns {

struct dns_config
{
    server_options server;
    std::vector<std::shared_ptr<const zone>> zones;
    std::chrono::seconds challenge_ttl{10};
};

[[nodiscard]] dns_config
parse_dns_config(const toml::table& root, const std::filesystem::path& base_dir);

} // namespace certfleet::dns

#pragma once
// The [dns] section of certfleet's TOML configuration: listeners, limits and zones.
//
//   [dns]
//   listen = ["127.0.0.1:53", "[::1]:53"]
//   threads = "auto"                # or a number; "auto" is one per CPU
//   tcp_idle_timeout_ms = 10000
//   max_tcp_connections = 256
//   max_tcp_per_source = 16         # an IPv4 address or an IPv6 /64
//   tcp_max_lifetime_ms = 120000
//   tcp_send_buffer = 16384         # bytes; 0 keeps the system's
//   max_udp_payload = 1232
//   challenge_ttl = 10
//
//   [dns.rate_limit]                # response rate limiting, on unless enabled = false
//   responses_per_second = 20       # per source prefix and answer; 0 turns it off
//   slip = 2                        # every 2nd limited answer is sent truncated (TC=1)
//   ipv4_prefix = 24
//   ipv6_prefix = 56
//
//   [[dns.zone]]
//   apex = "acme.example.net"
//   ttl = 300                       # default TTL of static records
//   soa = { mname = "ns1", rname = "hostmaster.example.net.", minimum = 10 }
//   ns = [ { name = "ns1", addresses = ["192.0.2.53", "2001:db8::53"] } ]
//   records = [ "www 300 A 192.0.2.1", "@ CAA 0 issue \"letsencrypt.org\"" ]
//   records_file = "acme.zone"      # relative to the configuration file; a regular file
//                                   # of at most 64 MiB
//
// Throws core::config_error naming the offending key, or both places of a conflict (a zone
// apex twice, two CNAMEs at one name or a CNAME beside other data).

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

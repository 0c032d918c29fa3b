#include "app/default_config.hpp"

namespace certfleet::app {

std::string_view default_config() noexcept
{
    return R"toml(# certfleet's embedded defaults: a delegated challenge zone served on loopback.
[dns]
listen = ["127.0.0.1:5353", "[::1]:5353"]
challenge_ttl = 10

[[dns.zone]]
apex = "acme.example.net"
ttl = 300
soa = { mname = "ns1", rname = "hostmaster.example.net.", serial = 1, minimum = 10 }
ns = [ { name = "ns1", addresses = ["127.0.0.1", "::1"] } ]
records = [
  "@ CAA 0 issue \"letsencrypt.org\"",
  "_about TXT \"certfleet delegated challenge zone\"",
]
)toml";
}

} // namespace certfleet::app

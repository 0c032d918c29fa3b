#pragma once
// How the acme-dns compatible API behaves (acmedns_api.hpp): plain data, read from [acmedns] by
// the app.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "dns/ip_network.hpp"

namespace certfleet::dns {

enum class acmedns_registration_policy
{
    closed,   // bearer tokens that may_register accepts, and sources in register_from
    open,     // anyone
    disabled, // nobody over the API: no /register route
};

struct acmedns_options
{
    std::string zone; // the challenge zone, lower case, without the final dot
    acmedns_registration_policy registration = acmedns_registration_policy::closed;
    std::vector<ip_network> register_from;
    std::string proxy_header; // e.g. "X-Forwarded-For"; empty: only the TCP peer counts
    std::chrono::seconds value_lifetime{3600};
    std::size_t max_values = 8;
    std::chrono::seconds ttl{10}; // of the TXT records served
    std::size_t max_allowfrom = 64;
};

} // namespace certfleet::dns

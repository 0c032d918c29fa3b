#pragma once
// Checks that a managed name delegates its DNS-01 challenge to us: `_acme-challenge.<name>` must
// be a CNAME (possibly through a chain) to the expected label in our zone. Looks the name up
// with c-ares through the system resolver or a given one, as a CA's resolver would.
//
// Blocking: one check takes at most about `timeout` × `tries` per CNAME hop. Run it off the
// io_context's thread when the server calls it.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dns/message.hpp"

namespace certfleet::dns {

class ares_client;

enum class delegation_status
{
    correct,          // the CNAME chain reaches the expected target
    missing,          // no CNAME at _acme-challenge.<name>
    points_elsewhere, // a CNAME, but to another target
    lookup_failed,    // the resolver could not answer (timeout, SERVFAIL, refused, ...)
};

[[nodiscard]] std::string_view to_string(delegation_status s) noexcept;

struct delegation_check
{
    std::string name;            // the managed name, e.g. "www.example.com"
    std::string expected_target; // e.g. "k3f9.acme.example.net"
    // Resolvers "host:port" ("127.0.0.1:5353", "[::1]:53"); empty: the system's resolv.conf.
    std::vector<std::string> resolvers;
    std::chrono::milliseconds timeout{2000};
    int tries = 2;
};

struct delegation_report
{
    delegation_status status = delegation_status::lookup_failed;
    std::string challenge_name;     // _acme-challenge.<name>.
    std::string expected_target;    // with a final dot
    std::vector<std::string> chain; // CNAME targets followed, in order, with final dots
    std::string detail;             // for humans: what is wrong and what to do
};

[[nodiscard]] delegation_report check_delegation(const delegation_check& check);

// The same on a client kept by the caller (its resolvers and timeouts, not the check's), which
// may hold the answers to `delegation_questions` already (ares_client::prefetch).
[[nodiscard]] delegation_report
check_delegation(const delegation_check& check, ares_client& client);
[[nodiscard]] std::vector<std::pair<std::string, rr_type>>
delegation_questions(const delegation_check& check);

} // namespace certfleet::dns

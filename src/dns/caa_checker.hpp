#pragma once
// CAA preflight: finds the Relevant RRset of a name as a CA would (RFC 8659 3) by asking a
// recursive resolver with c-ares, so that the issuer can skip an order the CA would refuse.
// The decision itself is core::evaluate_caa (core/caa_policy.hpp).
//
// Tree climbing (RFC 8659 3): the name itself (for "*.x", x), then each parent up to but not
// including the root; the first non-empty CAA RRset is the Relevant RRset. The resolver follows
// CNAMEs; the records of an alias are its target's.
//
// Blocking: one check makes one query per label, each taking at most about timeout × tries per
// resolver. Run it off the io_context's thread. Thread safety: no shared state; checks may run
// on several threads at once.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/caa_policy.hpp"
#include "dns/message.hpp"

namespace certfleet::dns {

class ares_client;

enum class caa_status
{
    found,         // a Relevant RRset exists: `owner` and `records` hold it
    none,          // no CAA records at the name or any parent: CAA does not restrict issuance
    lookup_failed, // a lookup failed (timeout, SERVFAIL, refused, malformed): CAs do not issue
};

[[nodiscard]] std::string_view to_string(caa_status s) noexcept;

struct caa_check
{
    std::string name; // "www.example.com" or "*.example.com"; a final dot is allowed
    // Resolvers "host:port" ("127.0.0.1:5353", "[::1]:53"); empty: the system's resolv.conf.
    std::vector<std::string> resolvers;
    std::chrono::milliseconds timeout{2000};
    int tries = 2;
};

struct caa_report
{
    caa_status status = caa_status::lookup_failed;
    std::string owner; // with a final dot: where the Relevant RRset was found; empty otherwise
    std::vector<core::caa_record> records; // the Relevant RRset, as received
    std::string detail;                    // for humans: what was found where, or what failed
};

[[nodiscard]] caa_report check_caa(const caa_check& check);

// check_caa, then core::evaluate_caa on the Relevant RRset. A lookup_failed report is a refusal
// (a CA that cannot read CAA does not issue). A name starting with "*." makes the request a
// wildcard one whatever `request.wildcard` says. The reason starts with where the records are.
[[nodiscard]] core::caa_verdict
check_caa_allows(const caa_check& check, const core::caa_request& request);

// The same on a client kept by the caller (its resolvers and timeouts, not the check's), which
// may hold the answers to `caa_questions` already (ares_client::prefetch): the CAA lookups of the
// whole climb, asked at once, where the check asks one level after the other.
[[nodiscard]] caa_report check_caa(const caa_check& check, ares_client& client);
[[nodiscard]] core::caa_verdict
check_caa_allows(const caa_check& check, const core::caa_request& request, ares_client& client);
[[nodiscard]] std::vector<std::pair<std::string, rr_type>> caa_questions(const caa_check& check);

} // namespace certfleet::dns

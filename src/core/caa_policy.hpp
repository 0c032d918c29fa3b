#pragma once
// CAA policy (RFC 8659, with the RFC 8657 `accounturi` and `validationmethods` parameters): would
// a CA refuse to issue for a name, given the name's Relevant RRset? The issuer asks before it
// places an order, because every failed validation counts against the CA's rate limits.
//
// Pure: no I/O, no clock, no environment. Thread safety: the functions keep no state and may run
// on any thread at once. noexcept: only running out of memory could make them fail. Finding the
// Relevant RRset (RFC 8659 3) is the dns module's job (dns/caa_checker.hpp).

#include <cstdint>
#include <string>
#include <vector>

namespace certfleet::core {

// One CAA property as it is in the RR (RFC 8659 4.1): `value` holds the raw bytes, which come
// from someone else's DNS and may hold anything.
struct caa_record
{
    std::uint8_t flags = 0;
    std::string tag;
    std::string value;
};

struct caa_request
{
    // The CA's issuer domain names: the directory's meta.caaIdentities (RFC 8555 7.1.1) or
    // configured, e.g. "letsencrypt.org". Compared case-insensitively; a final dot is ignored.
    std::vector<std::string> ca_domains;
    // The ACME account URL (RFC 8657 3). Empty while it is not known: a property that names an
    // account then cannot be shown to match, and does not authorize.
    std::string account_uri;
    // The ACME challenge type the order will use (RFC 8657 4), compared exactly.
    std::string validation_method = "dns-01";
    // The name asked for is "*.x": issuewild properties apply (RFC 8659 4.3).
    bool wildcard = false;
};

struct caa_verdict
{
    bool allowed = true;
    // For humans: which record decided and, when refused, what to change. Values taken from the
    // records are quoted and escaped as in a zone file.
    std::string reason;
};

// Decides whether `relevant_set` lets the CA in `request` issue:
// - an empty set, or one without any issue (issuewild for wildcards) property, allows (RFC 8659
//   4, 4.3); a wildcard request uses the issuewild properties when there is any, else issue;
// - a critical property (flag 128) with a tag other than issue, issuewild and iodef refuses
//   (RFC 8659 4.1);
// - otherwise one property must name one of `ca_domains`, and its accounturi and
//   validationmethods parameters, when present, must match the request (RFC 8657 3, 4).
//   Properties add up (RFC 8659 4.2); a malformed value names no CA and authorizes nobody.
// With properties that restrict issuance and no `ca_domains`, it refuses, asking the operator to
// configure the CA's CAA identities.
[[nodiscard]] caa_verdict
evaluate_caa(const std::vector<caa_record>& relevant_set, const caa_request& request) noexcept;

// The record in presentation form, `0 issue "ca.example"`: non-printable bytes, quotes and
// backslashes escaped (RFC 8659 4.1.1), so that it is safe to log and show.
[[nodiscard]] std::string to_text(const caa_record& record) noexcept;

} // namespace certfleet::core

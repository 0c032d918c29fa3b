#pragma once
// What the client tells of each HTTP request it makes, for metrics: which kind of ACME resource
// it went to and how it ended, both from small fixed sets so that label sets stay bounded
// whatever a CA sends. Pure.

#include <string_view>

namespace certfleet::acme {

// The resources of RFC 8555 7.1 (and RFC 9773's renewalInfo) a request goes to.
enum class endpoint
{
    directory,
    new_nonce,
    new_account,
    account,
    key_change,
    new_order,
    order,
    authorization,
    challenge,
    finalize,
    certificate,
    renewal_info,
    revoke_cert,
};

// The directory's own names where it has one ("newNonce", "renewalInfo"), else RFC 8555's
// resource names ("order", "authz", "challenge", "finalize", "certificate", "account").
[[nodiscard]] std::string_view to_string(endpoint e) noexcept;

// How a request ended: "2xx", "3xx", "5xx", "network_error"; a 4xx answer as its problem type's
// short name when it is a registered one ("badNonce", "rateLimited"; see
// registered_short_type()), else "4xx".
[[nodiscard]] std::string_view request_outcome(unsigned status, std::string_view body) noexcept;
inline constexpr std::string_view network_error = "network_error";

struct request_report
{
    endpoint where = endpoint::directory;
    std::string_view outcome; // request_outcome() or network_error
};

} // namespace certfleet::acme

#pragma once
// Errors of the acme module: responses the client cannot use, and outcomes of the ACME flow.
// A CA's own explanation travels beside the code as an acme::problem (problem.hpp).

#include <boost/system/error_code.hpp>
#include <string_view>
#include <type_traits>

namespace certfleet::acme {

enum class errc
{
    malformed_response = 1, // not JSON, wrong JSON type, bad URL, token or timestamp
    missing_field,          // a field or header the RFC requires is absent from a response
    value_too_large,        // a body, string or array past our bounds
    problem,                // the CA returned a problem document (RFC 8555 6.7)
    unexpected_status,      // an HTTP status or an object status the flow does not expect
    timeout,                // the operation did not complete in time
    order_invalid,          // the order became "invalid"
    authorization_invalid,  // an authorization became "invalid" (or expired, revoked...)
    no_dns01_challenge,     // the authorization offers no dns-01 challenge
    bad_nonce_exhausted,    // badNonce on every retry (RFC 8555 6.5)
    rate_limited,           // rateLimited problem or HTTP 429
    unsupported,            // the CA lacks the feature asked for (ARI, profiles...)
    no_account,             // the operation needs an account: register or find it first
    insecure_url,           // plain http:// to a host that is not loopback
};

[[nodiscard]] const boost::system::error_category& acme_category() noexcept;

// The enumerator's name: "malformed_response", "timeout", ... (stable, for metrics labels).
[[nodiscard]] std::string_view to_string(errc e) noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), acme_category()};
}

} // namespace certfleet::acme

template <> struct boost::system::is_error_code_enum<certfleet::acme::errc> : std::true_type
{};

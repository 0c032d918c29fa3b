#pragma once
// ACME Renewal Information (RFC 9773): the certificate identifier, the renewalInfo response,
// and the choice of a renewal time inside the suggested window. Pure functions; the certificate
// is read by core (core/crypto/certificate.hpp).

#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace certfleet::acme {

// RFC 9773 4.1: base64url(AKI keyIdentifier) "." base64url(serial), without padding, where
// serial is the content octets of the DER INTEGER (with its leading 0x00 when there is one).
// Both arguments are raw bytes and should not be empty.
[[nodiscard]] std::string
ari_cert_id(std::string_view authority_key_id_raw, std::string_view serial_der_content_raw);

// The identifier of the first certificate in leaf_pem (at most 1 MiB).
// Errors: malformed_response (no PEM certificate), missing_field (no Authority Key Identifier
// with a keyIdentifier), value_too_large.
[[nodiscard]] boost::system::result<std::string> ari_cert_id_from_pem(std::string_view leaf_pem
) noexcept;

// RFC 9773 4.2: the suggested window [start, end) and an optional explanation for humans.
struct renewal_window
{
    std::chrono::system_clock::time_point start;
    std::chrono::system_clock::time_point end;
    std::optional<std::string> explanation_url;
};

// Parses a renewalInfo response. start and end are RFC 3339 date-times (fractional seconds
// kept to the nanosecond, "Z" or a numeric offset, years 1970–2200); end must be after start.
// An explanationURL that is not an http(s) URL is dropped: it is only for humans, and the
// window itself must not be lost over it. Errors: malformed_response (not an object, wrong
// types, bad timestamps, end not after start), missing_field, value_too_large.
[[nodiscard]] boost::system::result<renewal_window> parse_renewal_info(std::string_view body
) noexcept;

// RFC 9773 4.2: the point start + (end - start) * uniform01, in [start, end). The caller
// passes the random number (uniform01 in [0, 1); values outside are clamped, NaN is 0).
// Returns start when end is not after start.
[[nodiscard]] std::chrono::system_clock::time_point
pick_renewal_time(const renewal_window& window, double uniform01) noexcept;

// Parses an RFC 3339 date-time (section 5.6) into a time point; see parse_renewal_info.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
parse_rfc3339(std::string_view text) noexcept;

} // namespace certfleet::acme

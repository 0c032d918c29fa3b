#pragma once
// ACME resource objects (RFC 8555 7.1.2–7.1.6, 8): accounts, orders, authorizations and
// challenges as the server returns them, and the request payloads the client sends.
//
// The parsers read untrusted bodies: every member's type is checked, unknown members are
// ignored, null counts as absent for optional members, and sizes are bounded (64 KiB strings,
// 100 identifiers, authorizations and contacts, 20 challenges, 1 MiB bodies, nesting 64).
// Errors: malformed_response (not a JSON object, a wrong type, an unknown status or one the
// object cannot have (7.1.6), a bad URL or token), missing_field, value_too_large.

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/problem.hpp"

namespace certfleet::acme {

// Every status of RFC 8555 7.1.6; each object allows only some of them.
enum class status
{
    pending,
    ready,
    processing,
    valid,
    invalid,
    deactivated,
    expired,
    revoked,
};

[[nodiscard]] std::optional<status> status_from_string(std::string_view s) noexcept;
[[nodiscard]] std::string_view to_string(status s) noexcept;

struct identifier
{
    std::string type; // "dns"
    std::string value;
    friend bool operator==(const identifier&, const identifier&) = default;
};

// RFC 8555 7.1.3; "replaces" from RFC 9773 5, "profile" from draft-ietf-acme-profiles.
// state is one of pending, ready, processing, valid, invalid.
struct order
{
    status state = status::pending;
    std::optional<std::string> expires; // RFC 3339, as sent
    std::vector<identifier> identifiers;
    std::vector<std::string> authorizations; // absolute http(s) URLs
    std::string finalize;                    // absolute http(s) URL
    std::optional<std::string> certificate;  // absolute http(s) URL
    std::optional<problem> error;
    std::optional<std::string> replaces;
    std::optional<std::string> profile;
};

// RFC 8555 7.1.5, 8. state is one of pending, processing, valid, invalid. token is checked
// (base64url alphabet, at least 22 characters: 128 bits, RFC 8555 8.1) whenever present, and
// required for http-01, dns-01 and tls-alpn-01; it is empty for other types that send none.
struct challenge
{
    std::string type;
    std::string url; // absolute http(s) URL
    std::string token;
    status state = status::pending;
    std::optional<problem> error;
};

// RFC 8555 7.1.4. state is one of pending, valid, invalid, deactivated, expired, revoked.
struct authorization
{
    identifier id;
    status state = status::pending;
    std::optional<std::string> expires;
    bool wildcard = false;
    std::vector<challenge> challenges;

    // The first challenge of that type, or nullptr.
    [[nodiscard]] const challenge* find(std::string_view type) const noexcept;
};

// RFC 8555 7.1.2. state is one of valid, deactivated, revoked. "orders" is optional here
// although the RFC requires it: Let's Encrypt does not send it.
struct account
{
    status state = status::valid;
    std::vector<std::string> contact;
    std::optional<std::string> orders;
};

[[nodiscard]] boost::system::result<order> parse_order(std::string_view body) noexcept;
[[nodiscard]] boost::system::result<authorization> parse_authorization(std::string_view body
) noexcept;
[[nodiscard]] boost::system::result<challenge> parse_challenge(std::string_view body) noexcept;
[[nodiscard]] boost::system::result<account> parse_account(std::string_view body) noexcept;

// RFC 8555 8.1: a token is base64url (no padding) of at least 128 bits, so 22 characters.
[[nodiscard]] bool is_valid_token(std::string_view token) noexcept;

// RFC 8555 7.4 newOrder payload: {"identifiers": [...]} plus "replaces" (RFC 9773 5) and
// "profile" (draft-ietf-acme-profiles) when given. Strings must be valid UTF-8 (the JSON
// serializer throws otherwise).
[[nodiscard]] nlohmann::json new_order_payload(
    const std::vector<identifier>& identifiers,
    const std::optional<std::string>& replaces,
    const std::optional<std::string>& profile
);

// RFC 8555 7.3 newAccount payload: "contact" when not empty, "termsOfServiceAgreed" and
// "onlyReturnExisting" (7.3.1) when true.
[[nodiscard]] nlohmann::json new_account_payload(
    const std::vector<std::string>& contact, bool terms_agreed, bool only_return_existing
);

// One {"dns", name} identifier per name, in order, names as given (the caller normalizes).
[[nodiscard]] std::vector<identifier> dns_identifiers(const std::vector<std::string>& names);

} // namespace certfleet::acme

#pragma once
// The ACME directory (RFC 8555 7.1.1): the URLs of the server's resources and its metadata,
// with "renewalInfo" (RFC 9773 4) and meta "profiles" (draft-ietf-acme-profiles).

#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certfleet::acme {

struct directory_meta
{
    std::string terms_of_service; // a URL, not checked: some servers use data: URLs
    std::string website;
    std::vector<std::string> caa_identities;
    bool external_account_required = false;
    std::vector<std::pair<std::string, std::string>> profiles; // name → description, by name
};

struct directory
{
    std::string new_nonce;
    std::string new_account;
    std::string new_order;
    std::string revoke_cert;
    std::string key_change;
    std::string new_authz;    // empty when the server does not offer pre-authorization
    std::string renewal_info; // empty when the server does not offer ARI (RFC 9773)
    directory_meta meta;

    [[nodiscard]] bool has_profile(std::string_view name) const noexcept;
};

// Parses a directory body. newNonce, newAccount, newOrder, revokeCert and keyChange are
// required; every resource URL must be an absolute http(s) URL. Unknown members are ignored.
// Errors: missing_field, malformed_response (not a JSON object, a member of the wrong type, a
// bad URL), value_too_large (body, nesting, strings past their bounds; more than 100
// caaIdentities or profiles).
[[nodiscard]] boost::system::result<directory> parse_directory(std::string_view body) noexcept;

// Plain http:// carries the account's requests and the certificates in clear: it is allowed
// only to a loopback host (a CA on this machine). False for http:// to any other host; true
// for https://, and for text that is not a URL at all (the HTTP client refuses that, bad_url).
[[nodiscard]] bool transport_allowed(std::string_view url) noexcept;

// The first resource URL in d that transport_allowed refuses, if any.
[[nodiscard]] std::optional<std::string> first_refused_url(const directory& d);

} // namespace certfleet::acme

#pragma once
// Bearer tokens of the HTTPS API and what each scope may do.
//
// A token is "cft_" and 43 characters of [A-Za-z0-9] (256 random bits); the store keeps only its
// SHA-256, so a copy of the database opens no API. Scopes: `read` (every GET), `renew` (read,
// and renewing certificates), `admin` (everything), `register` (acme-dns registration only).
// authenticate() compares the presented secret's hash with every live token's in constant time:
// how long it takes says nothing about how close a guess came.

#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store.hpp"

namespace certfleet::app {

enum class api_scope
{
    read,
    renew,
    admin,
    register_acmedns,
};

[[nodiscard]] std::optional<api_scope> scope_from_string(std::string_view text);
[[nodiscard]] std::string_view to_string(api_scope s) noexcept;
// "read, renew, admin, register": for help texts and errors.
[[nodiscard]] std::string scope_names();

// Whether a token of scope `held` may do what needs `needed`.
[[nodiscard]] bool scope_allows(api_scope held, api_scope needed) noexcept;

struct created_token
{
    core::api_token record;
    std::string secret; // shown once
};

// Makes and stores a token. Errors: already_exists (a live token has the name), the store's.
[[nodiscard]] boost::system::result<created_token> create_api_token(
    core::store& store,
    std::string_view name,
    api_scope scope,
    std::chrono::system_clock::time_point now,
    std::optional<std::chrono::seconds> lifetime
);

// The live, unexpired token whose secret this is, if any. `tokens` is the store's list (revoked
// and expired ones are skipped here).
[[nodiscard]] std::optional<core::api_token> authenticate(
    const std::vector<core::api_token>& tokens,
    std::string_view secret,
    std::chrono::system_clock::time_point now
);

// The secret of an "Authorization: Bearer <secret>" header value; nullopt for another scheme.
[[nodiscard]] std::optional<std::string_view> bearer_secret(std::string_view authorization);

} // namespace certfleet::app

#include "app/api_tokens.hpp"

#include <array>
#include <boost/beast/core/string.hpp>

#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/random.hpp"

namespace certfleet::app {
namespace {

constexpr std::string_view token_prefix = "cft_";

struct scope_name
{
    api_scope scope;
    std::string_view name;
};

constexpr std::array<scope_name, 4> scope_names_table{{
    {api_scope::read, "read"},
    {api_scope::renew, "renew"},
    {api_scope::admin, "admin"},
    {api_scope::register_acmedns, "register"},
}};

std::string secret_hash(std::string_view secret)
{
    return core::to_hex(core::sha256(secret));
}

} // namespace

std::optional<api_scope> scope_from_string(std::string_view text)
{
    for (const auto& [scope, name] : scope_names_table) {
        if (name == text) {
            return scope;
        }
    }
    return std::nullopt;
}

std::string_view to_string(api_scope s) noexcept
{
    for (const auto& [scope, name] : scope_names_table) {
        if (scope == s) {
            return name;
        }
    }
    return "?";
}

std::string scope_names()
{
    std::string out;
    for (const auto& entry : scope_names_table) {
        out += (out.empty() ? "" : ", ") + std::string(entry.name);
    }
    return out;
}

bool scope_allows(api_scope held, api_scope needed) noexcept
{
    switch (held) {
    case api_scope::admin:
        return true;
    case api_scope::renew:
        return needed == api_scope::renew || needed == api_scope::read;
    case api_scope::read:
        return needed == api_scope::read;
    case api_scope::register_acmedns:
        return needed == api_scope::register_acmedns;
    }
    return false;
}

boost::system::result<created_token> create_api_token(
    core::store& store,
    std::string_view name,
    api_scope scope,
    std::chrono::system_clock::time_point now,
    std::optional<std::chrono::seconds> lifetime
)
{
    // 43 characters of [A-Za-z0-9]: 256 bits.
    auto random = core::random_password(43);
    if (!random) {
        return random.error();
    }
    created_token out;
    out.secret = std::string(token_prefix) + std::string(random->view());
    out.record.name = std::string(name);
    out.record.scope = std::string(to_string(scope));
    out.record.secret_sha256 = secret_hash(out.secret);
    out.record.created_at = std::chrono::time_point_cast<std::chrono::seconds>(now);
    if (lifetime) {
        out.record.expires_at = out.record.created_at + *lifetime;
    }
    auto id = store.add_api_token(out.record);
    if (!id) {
        return id.error();
    }
    out.record.id = *id;
    return out;
}

std::optional<core::api_token> authenticate(
    const std::vector<core::api_token>& tokens,
    std::string_view secret,
    std::chrono::system_clock::time_point now
)
{
    const auto presented = secret_hash(secret);
    std::optional<core::api_token> found;
    // Every live token is compared, found or not: the time taken does not depend on which.
    for (const auto& t : tokens) {
        const bool match = core::constant_time_equal(presented, t.secret_sha256);
        if (match && !t.revoked_at && (!t.expires_at || now < *t.expires_at)) {
            found = t;
        }
    }
    return found;
}

std::optional<std::string_view> bearer_secret(std::string_view authorization)
{
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size() ||
        !boost::beast::iequals(authorization.substr(0, scheme.size()), scheme)) {
        return std::nullopt;
    }
    auto secret = authorization.substr(scheme.size());
    while (!secret.empty() && secret.front() == ' ') {
        secret.remove_prefix(1);
    }
    while (!secret.empty() && (secret.back() == ' ' || secret.back() == '\t')) {
        secret.remove_suffix(1);
    }
    if (secret.empty()) {
        return std::nullopt;
    }
    return secret;
}

} // namespace certfleet::app

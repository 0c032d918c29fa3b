#include "core/crypto/jwk.hpp"

#include <array>
#include <span>

#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"

namespace certfleet::core {

nlohmann::json public_jwk(const private_key& key)
{
    return key.public_jwk();
}

std::string jwk_thumbprint(const private_key& key)
{
    return jwk_thumbprint(key.public_jwk());
}

std::string jwk_thumbprint(const nlohmann::json& jwk)
{
    if (!jwk.is_object()) {
        return {};
    }
    const auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) {
        return {};
    }
    // RFC 7638 section 3.2: the required members of each key type.
    static constexpr std::array<const char*, 4> ec_members = {"crv", "kty", "x", "y"};
    static constexpr std::array<const char*, 3> rsa_members = {"e", "kty", "n"};
    static constexpr std::array<const char*, 2> oct_members = {"k", "kty"};
    std::span<const char* const> members;
    const auto& type = kty->get_ref<const std::string&>();
    if (type == "EC") {
        members = ec_members;
    } else if (type == "RSA") {
        members = rsa_members;
    } else if (type == "oct") {
        members = oct_members;
    } else {
        return {};
    }
    // nlohmann::json keeps object members in a std::map, so dump() emits them in lexicographic
    // (code unit) order with no whitespace and minimal escaping: RFC 7638 section 3.3 exactly.
    nlohmann::json canonical = nlohmann::json::object();
    for (const char* name : members) {
        const auto it = jwk.find(name);
        if (it == jwk.end() || !it->is_string()) {
            return {};
        }
        canonical[name] = *it;
    }
    try {
        return base64url_encode(sha256(canonical.dump()));
    } catch (const nlohmann::json::exception&) {
        return {}; // a member that is not valid UTF-8
    }
}

std::string_view jws_algorithm(key_type type) noexcept
{
    switch (type) {
    case key_type::ec_p256:
        return "ES256";
    case key_type::ec_p384:
        return "ES384";
    case key_type::rsa_2048:
    case key_type::rsa_3072:
    case key_type::rsa_4096:
        return "RS256";
    }
    return "RS256";
}

std::string_view jws_algorithm(const private_key& key) noexcept
{
    return jws_algorithm(key.type());
}

} // namespace certfleet::core

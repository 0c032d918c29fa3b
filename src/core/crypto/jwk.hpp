#pragma once
// JSON Web Keys for ACME (RFC 8555 section 6.2): the public JWK of an account key, its RFC 7638
// thumbprint (used in key authorizations, RFC 8555 section 8.1) and its JWS "alg".

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

// EC {crv, kty, x, y} or RSA {e, kty, n}; see private_key::public_jwk.
[[nodiscard]] nlohmann::json public_jwk(const private_key& key);

// RFC 7638 section 3: base64url(SHA-256(UTF-8 of the required members, in lexicographic order,
// without whitespace)). The JSON overload accepts kty EC (crv, x, y), RSA (e, n) and oct (k),
// ignores other members, and returns "" when a required member is missing or not a string.
[[nodiscard]] std::string jwk_thumbprint(const private_key& key);
[[nodiscard]] std::string jwk_thumbprint(const nlohmann::json& jwk);

// "ES256" (P-256), "ES384" (P-384) or "RS256" (RSA of any supported size), RFC 7518 section 3.1.
[[nodiscard]] std::string_view jws_algorithm(key_type type) noexcept;
[[nodiscard]] std::string_view jws_algorithm(const private_key& key) noexcept;

} // namespace certfleet::core

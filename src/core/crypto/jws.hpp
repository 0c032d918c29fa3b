#pragma once
// JSON Web Signatures in the flattened JSON serialization (RFC 7515 section 7.2.2), as ACME
// requires them (RFC 8555 section 6.2): {"protected", "payload", "signature"}, no unprotected
// header. Algorithms: ES256, ES384, RS256 with a private_key and HS256 with a MAC key (External
// Account Binding, RFC 8555 section 7.3.4). ECDSA signatures are the fixed-size r||s form of
// RFC 7518 section 3.4 (64 bytes for P-256, 96 for P-384), never DER.
//
// The caller builds the protected header ({alg, nonce, url, kid | jwk}); its "alg" must match
// the key (jws_algorithm) or signing fails with invalid_argument. An empty payload is encoded as
// "" (POST-as-GET, RFC 8555 section 6.3). No function here throws on malformed input.

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

// Errors: invalid_argument (header not an object, "alg" missing or not the key's, header not
// valid UTF-8), crypto_failure.
[[nodiscard]] boost::system::result<nlohmann::json>
sign_jws(const private_key& key, const nlohmann::json& protected_header, std::string_view payload);

// Errors: invalid_argument (empty MAC key, header not an object, "alg" not "HS256").
[[nodiscard]] boost::system::result<nlohmann::json> sign_jws_hs256(
    std::string_view mac_key, const nlohmann::json& protected_header, std::string_view payload
);

// A JWS whose signature checked out.
struct verified_jws
{
    nlohmann::json protected_header;
    std::string payload; // decoded
};

// Verifies a flattened JWS against a public (or private) key of a supported type. The header's
// "alg" must be the one that key type implies (no algorithm is taken from the message alone),
// and a "crit" header or an unprotected "header" member is refused. Errors: invalid_encoding
// (not a flattened JWS, bad base64url, header not a JSON object), unsupported_key,
// authentication_failed (alg mismatch or a signature that does not verify).
[[nodiscard]] boost::system::result<verified_jws>
open_jws(const nlohmann::json& jws, EVP_PKEY* public_key);
[[nodiscard]] boost::system::result<verified_jws>
open_jws_hs256(const nlohmann::json& jws, std::string_view mac_key);

// open_jws(...).has_value(): false for anything malformed, mismatched or forged.
[[nodiscard]] bool verify_jws(const nlohmann::json& jws, EVP_PKEY* public_key);
[[nodiscard]] bool verify_jws_hs256(const nlohmann::json& jws, std::string_view mac_key);

// Lower level: the raw JWS Signature over an exact JWS Signing Input
// (ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)), RFC 7515 section 5.1), for inputs
// whose header bytes are not a dump() of a JSON value (test vectors, compact serialization).
[[nodiscard]] boost::system::result<std::string>
jws_signature(const private_key& key, std::string_view signing_input);
// ES256 with a bare P-256 key pair (p256_pkey_from_scalar): R || S, 64 bytes. Errors:
// crypto_failure (among them a key that is not P-256).
[[nodiscard]] boost::system::result<std::string>
es256_signature(EVP_PKEY* key, std::string_view signing_input);
[[nodiscard]] std::string
jws_signature_hs256(std::string_view mac_key, std::string_view signing_input);
[[nodiscard]] bool verify_jws_signature(
    EVP_PKEY* public_key, std::string_view signing_input, std::string_view signature
);

} // namespace certfleet::core

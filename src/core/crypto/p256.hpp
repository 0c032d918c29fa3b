#pragma once
// P-256 keys as raw bytes, for code that must hold keys the same way on every platform (the
// deploy module's crypto port, HPKE): a private key is its 32-byte big-endian scalar, a public
// key its 65-byte uncompressed point 0x04 || X || Y (SEC 1 2.3.3). These functions convert
// between that form and OpenSSL keys; signing goes through jws.hpp (jws_signature,
// verify_jws_signature), which already speaks the raw R || S form of ES256.

#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/private_key.hpp"
#include "core/crypto/secret.hpp"

namespace certfleet::core {

inline constexpr std::size_t p256_scalar_size = 32;
inline constexpr std::size_t p256_point_size = 65;

// The key pair of `scalar`; its public point is scalar * G. Errors: invalid_key (not 32 bytes,
// zero, or not below the group order), crypto_failure. Its two halves agree by construction, so
// unlike private_key::from_pem no trial signature is made.
[[nodiscard]] boost::system::result<private_key> p256_key_from_scalar(std::string_view scalar);

// The same key pair as a bare OpenSSL key, for one operation (ECDH, a signature) where the
// public key's SPKI and JWK, which a private_key encodes up front, would be wasted work.
// Errors as p256_key_from_scalar.
[[nodiscard]] boost::system::result<pkey_ptr> p256_pkey_from_scalar(std::string_view scalar);

// The public point of `scalar` (scalar * G) without building a key. Errors as
// p256_key_from_scalar.
[[nodiscard]] boost::system::result<std::string> p256_point_of_scalar(std::string_view scalar);

struct p256_raw_pair
{
    secret scalar;     // 32 bytes
    std::string point; // 65 bytes
};

// A fresh key pair from the OpenSSL CSPRNG, as raw bytes. Errors: crypto_failure.
[[nodiscard]] boost::system::result<p256_raw_pair> p256_generate();

// A fresh key pair's public point and its ECDH secret with `peer_point` (HPKE's Encap): one key
// generation and one derivation, where p256_generate then p256_ecdh would build the key twice.
// Errors: invalid_key (peer as in p256_public_key), crypto_failure.
struct p256_ephemeral_agreement
{
    std::string point; // 65 bytes: the ephemeral public key
    secret shared;     // 32 bytes: the X coordinate of the shared point
};
[[nodiscard]] boost::system::result<p256_ephemeral_agreement>
p256_ephemeral_ecdh(std::string_view peer_point);

// The scalar of a P-256 key, 32 bytes with leading zeros. Errors: unsupported_key (another key
// type), crypto_failure.
[[nodiscard]] boost::system::result<secret> p256_scalar(const private_key& key);

// The uncompressed point of a P-256 public or private key. Errors: unsupported_key.
[[nodiscard]] boost::system::result<std::string> p256_point(const EVP_PKEY* key);

// A public key from an uncompressed point. Errors: invalid_key (not 65 bytes, not 0x04-led, or
// not on the curve).
[[nodiscard]] boost::system::result<pkey_ptr> p256_public_key(std::string_view point);

// ECDH (SEC 1 3.3.1): the X coordinate of scalar(key) * peer, 32 bytes. Errors: unsupported_key
// (key not P-256), invalid_key (peer as in p256_public_key), crypto_failure.
[[nodiscard]] boost::system::result<secret>
p256_ecdh(const private_key& key, std::string_view peer_point);
// The same with a bare P-256 key pair (p256_pkey_from_scalar). Errors: invalid_key (peer),
// crypto_failure (among them a key that is not a P-256 pair).
[[nodiscard]] boost::system::result<secret> p256_ecdh(EVP_PKEY* key, std::string_view peer_point);

// ECDH with a bare scalar (32 bytes): the same secret as p256_ecdh, without building a key
// object. Errors: invalid_key (a scalar out of [1, n-1], a peer as in p256_public_key),
// crypto_failure.
[[nodiscard]] boost::system::result<secret>
p256_ecdh_with_scalar(std::string_view scalar, std::string_view peer_point);

// Whether `signature` (ES256: R || S, 64 bytes) signs `message` under the public `point`, as
// verify_jws_signature decides it, without importing the point as a key. False for anything that
// does not verify, among them a point that is not on the curve.
[[nodiscard]] bool
p256_verify_es256(std::string_view point, std::string_view message, std::string_view signature);

} // namespace certfleet::core

#pragma once
// The crypto primitives the agent's portable code needs (HPKE, bundle verification, signed
// requests). OpenSSL implements them on Linux (openssl_crypto.hpp); CNG/BCrypt on Windows.
//
// Representations are plain bytes so that any platform can hold them:
// - a P-256 private key is its 32-byte big-endian scalar; a public key is the 65-byte
//   uncompressed point (0x04 || X || Y, SEC 1 2.3.3);
// - an ES256 signature is the 64-byte R || S (RFC 7518 3.4);
// - AES-GCM output is ciphertext || 16-byte tag.
//
// Thread safety: one object may be shared by threads; every member may be called concurrently.
// Implementations may keep caches behind that (openssl_crypto keeps the signing keys it built
// last), but no result depends on earlier calls.

#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"

namespace certfleet::deploy {

struct p256_key_pair
{
    core::secret private_scalar; // 32 bytes
    std::string public_point;    // 65 bytes
};

class crypto_port
{
public:
    virtual ~crypto_port() = default;

    // A fresh key pair. Errors: crypto_failure.
    [[nodiscard]] virtual boost::system::result<p256_key_pair> generate_p256() const = 0;
    // The key pair for a given scalar (HPKE DeriveKeyPair, stored identities). Errors:
    // crypto_failure (zero or not below the group order).
    [[nodiscard]] virtual boost::system::result<p256_key_pair>
    p256_from_scalar(std::string_view scalar) const = 0;
    // The X coordinate of d * peer (32 bytes). Errors: crypto_failure (a point not on the curve).
    [[nodiscard]] virtual boost::system::result<core::secret>
    ecdh_p256(std::string_view private_scalar, std::string_view peer_public_point) const = 0;

    // A fresh key pair's public point and its ECDH secret with the peer (HPKE's Encap). The
    // default generates, then derives; an implementation may do both on one key object.
    struct ephemeral_agreement
    {
        std::string public_point; // 65 bytes
        core::secret shared;      // 32 bytes
    };
    [[nodiscard]] virtual boost::system::result<ephemeral_agreement>
    ephemeral_ecdh_p256(std::string_view peer_public_point) const
    {
        auto pair = generate_p256();
        if (!pair) {
            return pair.error();
        }
        auto shared = ecdh_p256(pair->private_scalar.view(), peer_public_point);
        if (!shared) {
            return shared.error();
        }
        return ephemeral_agreement{std::move(pair->public_point), std::move(*shared)};
    }

    // ES256 over SHA-256(message). Errors: crypto_failure. The same scalar typically signs many
    // messages (the server's bundle key, an agent's identity): an implementation may keep the
    // key it builds from it for the next call (a one-time scalar would only take a reused one's
    // place).
    [[nodiscard]] virtual boost::system::result<std::string>
    sign_es256(std::string_view private_scalar, std::string_view message) const = 0;
    [[nodiscard]] virtual bool verify_es256(
        std::string_view public_point, std::string_view message, std::string_view signature
    ) const = 0;

    [[nodiscard]] virtual std::string sha256(std::string_view data) const = 0;
    // Only for the certificate thumbprint Windows shows and RRAS stores (DESIGN section 6).
    [[nodiscard]] virtual std::string sha1(std::string_view data) const = 0;
    [[nodiscard]] virtual std::string
    hmac_sha256(std::string_view key, std::string_view data) const = 0;

    // AES-GCM with a 16- or 32-byte key and a 12-byte nonce. Errors: crypto_failure.
    [[nodiscard]] virtual boost::system::result<std::string> aes_gcm_seal(
        std::string_view key,
        std::string_view nonce,
        std::string_view aad,
        std::string_view plaintext
    ) const = 0;
    // Errors: unseal_failed (tag mismatch: wrong key, nonce, aad or tampering).
    [[nodiscard]] virtual boost::system::result<core::secret> aes_gcm_open(
        std::string_view key, std::string_view nonce, std::string_view aad, std::string_view sealed
    ) const = 0;

    // Errors: crypto_failure.
    [[nodiscard]] virtual boost::system::result<std::string> random_bytes(std::size_t count
    ) const = 0;
};

} // namespace certfleet::deploy

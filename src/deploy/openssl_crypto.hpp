#pragma once
// The crypto port on OpenSSL (Linux agent and the server): each operation is one call into the
// core primitives (core/crypto/p256.hpp, jws.hpp, aes_gcm.hpp, hash.hpp), with core's errors
// mapped to the port's: an AEAD tag that does not verify is unseal_failed, anything else that
// fails is crypto_failure.
//
// sign_es256 keeps the last few signing keys it built (core::p256_key_cache): the server signs
// every bundle with one key and an agent every request with its identity, and rebuilding the key
// from its scalar each time cost as much as the signature. Copies of an object share that cache;
// every member may be called from several threads at once.

#include <memory>

#include "core/crypto/p256_key_cache.hpp"
#include "deploy/crypto_port.hpp"

namespace certfleet::deploy {

class openssl_crypto final : public crypto_port
{
public:
    [[nodiscard]] boost::system::result<p256_key_pair> generate_p256() const override;
    [[nodiscard]] boost::system::result<p256_key_pair> p256_from_scalar(std::string_view scalar
    ) const override;
    [[nodiscard]] boost::system::result<core::secret>
    ecdh_p256(std::string_view private_scalar, std::string_view peer_public_point) const override;
    [[nodiscard]] boost::system::result<ephemeral_agreement>
    ephemeral_ecdh_p256(std::string_view peer_public_point) const override;

    [[nodiscard]] boost::system::result<std::string>
    sign_es256(std::string_view private_scalar, std::string_view message) const override;
    [[nodiscard]] bool verify_es256(
        std::string_view public_point, std::string_view message, std::string_view signature
    ) const override;

    [[nodiscard]] std::string sha256(std::string_view data) const override;
    [[nodiscard]] std::string sha1(std::string_view data) const override;
    [[nodiscard]] std::string
    hmac_sha256(std::string_view key, std::string_view data) const override;

    [[nodiscard]] boost::system::result<std::string> aes_gcm_seal(
        std::string_view key,
        std::string_view nonce,
        std::string_view aad,
        std::string_view plaintext
    ) const override;
    [[nodiscard]] boost::system::result<core::secret> aes_gcm_open(
        std::string_view key, std::string_view nonce, std::string_view aad, std::string_view sealed
    ) const override;

    [[nodiscard]] boost::system::result<std::string> random_bytes(std::size_t count) const override;

private:
    std::shared_ptr<core::p256_key_cache> signing_keys_ = std::make_shared<core::p256_key_cache>();
};

} // namespace certfleet::deploy

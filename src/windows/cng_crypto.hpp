#pragma once
// The crypto port on Windows CNG (bcrypt.dll): ECDSA and ECDH on P-256, SHA-1/SHA-256, HMAC,
// AES-GCM and the system RNG. CNG takes a private key only with its public point, which
// p256_scalar_mult.hpp computes from the scalar. ECDH falls back to that same arithmetic when
// bcrypt refuses to hand out the raw secret (Wine on GnuTLS before 3.8). Algorithm providers are
// opened once per object and are safe to share between threads (CNG's documented rule for algorithm
// handles); keys are made per call.

#include <memory>

#include "deploy/crypto_port.hpp"

namespace certfleet::deploy {

class cng_crypto final : public crypto_port
{
public:
    // Throws std::runtime_error when CNG lacks an algorithm (not a supported Windows).
    cng_crypto();
    ~cng_crypto() override;
    cng_crypto(const cng_crypto&) = delete;
    cng_crypto& operator=(const cng_crypto&) = delete;

    [[nodiscard]] boost::system::result<p256_key_pair> generate_p256() const override;
    [[nodiscard]] boost::system::result<p256_key_pair> p256_from_scalar(std::string_view scalar
    ) const override;
    [[nodiscard]] boost::system::result<core::secret>
    ecdh_p256(std::string_view private_scalar, std::string_view peer_public_point) const override;

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
    struct providers;
    std::unique_ptr<providers> alg_;
};

} // namespace certfleet::deploy

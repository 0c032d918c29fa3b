#pragma once
// A crypto_port that forwards to the platform's (openssl_crypto, or cng_crypto on Windows), for
// tests that replace one primitive to reach a branch real inputs hit with negligible probability.

#include "support/platform_crypto.hpp"

namespace certfleet::deploy::test {

class forwarding_crypto : public crypto_port
{
public:
    boost::system::result<p256_key_pair> generate_p256() const override
    {
        return real_.generate_p256();
    }
    boost::system::result<p256_key_pair> p256_from_scalar(std::string_view s) const override
    {
        return real_.p256_from_scalar(s);
    }
    boost::system::result<core::secret>
    ecdh_p256(std::string_view d, std::string_view peer) const override
    {
        return real_.ecdh_p256(d, peer);
    }
    boost::system::result<std::string>
    sign_es256(std::string_view d, std::string_view message) const override
    {
        return real_.sign_es256(d, message);
    }
    bool verify_es256(std::string_view point, std::string_view message, std::string_view signature)
        const override
    {
        return real_.verify_es256(point, message, signature);
    }
    std::string sha256(std::string_view data) const override { return real_.sha256(data); }
    std::string sha1(std::string_view data) const override { return real_.sha1(data); }
    std::string hmac_sha256(std::string_view key, std::string_view data) const override
    {
        return real_.hmac_sha256(key, data);
    }
    boost::system::result<std::string> aes_gcm_seal(
        std::string_view key,
        std::string_view nonce,
        std::string_view aad,
        std::string_view plaintext
    ) const override
    {
        return real_.aes_gcm_seal(key, nonce, aad, plaintext);
    }
    boost::system::result<core::secret> aes_gcm_open(
        std::string_view key, std::string_view nonce, std::string_view aad, std::string_view sealed
    ) const override
    {
        return real_.aes_gcm_open(key, nonce, aad, sealed);
    }
    boost::system::result<std::string> random_bytes(std::size_t count) const override
    {
        return real_.random_bytes(count);
    }

private:
    certfleet::test::platform_crypto real_;
};

} // namespace certfleet::deploy::test

#include "deploy/openssl_crypto.hpp"

#include "core/crypto/aes_gcm.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/jws.hpp"
#include "core/crypto/p256.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "deploy/errc.hpp"

namespace certfleet::deploy {
boost::system::result<p256_key_pair> openssl_crypto::generate_p256() const
{
    auto pair = core::p256_generate();
    if (!pair) {
        return errc::crypto_failure;
    }
    return p256_key_pair{std::move(pair->scalar), std::move(pair->point)};
}

boost::system::result<p256_key_pair> openssl_crypto::p256_from_scalar(std::string_view scalar) const
{
    auto point = core::p256_point_of_scalar(scalar);
    if (!point) {
        return errc::crypto_failure;
    }
    return p256_key_pair{core::secret{scalar}, std::move(*point)};
}

boost::system::result<core::secret>
openssl_crypto::ecdh_p256(std::string_view private_scalar, std::string_view peer_public_point) const
{
    auto shared = core::p256_ecdh_with_scalar(private_scalar, peer_public_point);
    if (!shared) {
        return errc::crypto_failure;
    }
    return std::move(*shared);
}

boost::system::result<crypto_port::ephemeral_agreement>
openssl_crypto::ephemeral_ecdh_p256(std::string_view peer_public_point) const
{
    auto agreed = core::p256_ephemeral_ecdh(peer_public_point);
    if (!agreed) {
        return errc::crypto_failure;
    }
    return ephemeral_agreement{std::move(agreed->point), std::move(agreed->shared)};
}

boost::system::result<std::string>
openssl_crypto::sign_es256(std::string_view private_scalar, std::string_view message) const
{
    auto key = signing_keys_->get(private_scalar);
    if (!key) {
        return errc::crypto_failure;
    }
    auto signature = core::es256_signature(key->get(), message);
    if (!signature) {
        return errc::crypto_failure;
    }
    return std::move(*signature);
}

bool openssl_crypto::verify_es256(
    std::string_view public_point, std::string_view message, std::string_view signature
) const
{
    return core::p256_verify_es256(public_point, message, signature);
}

std::string openssl_crypto::sha256(std::string_view data) const
{
    return core::sha256(data);
}

std::string openssl_crypto::sha1(std::string_view data) const
{
    return core::sha1(data);
}

std::string openssl_crypto::hmac_sha256(std::string_view key, std::string_view data) const
{
    return core::hmac_sha256(key, data);
}

boost::system::result<std::string> openssl_crypto::aes_gcm_seal(
    std::string_view key, std::string_view nonce, std::string_view aad, std::string_view plaintext
) const
{
    auto sealed = core::aes_gcm_seal(key, nonce, aad, plaintext);
    if (!sealed) {
        return errc::crypto_failure;
    }
    return std::move(*sealed);
}

boost::system::result<core::secret> openssl_crypto::aes_gcm_open(
    std::string_view key, std::string_view nonce, std::string_view aad, std::string_view sealed
) const
{
    auto opened = core::aes_gcm_open(key, nonce, aad, sealed);
    if (!opened) {
        return opened.error() == core::errc::authentication_failed ? errc::unseal_failed
                                                                   : errc::crypto_failure;
    }
    return std::move(*opened);
}

boost::system::result<std::string> openssl_crypto::random_bytes(std::size_t count) const
{
    auto bytes = core::random_bytes(count);
    if (!bytes) {
        return errc::crypto_failure;
    }
    return std::move(*bytes);
}

} // namespace certfleet::deploy

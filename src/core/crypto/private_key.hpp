#pragma once
// Private keys for ACME accounts, certificates and bundle signing: EC P-256/P-384 and RSA
// 2048/3072/4096 only. A private_key always holds a usable key pair of one of those types (its
// public half checked against the private half when it was loaded), so everything derived from it
// (type, public key, JWK) cannot fail. Move-only; OpenSSL wipes the key material on destruction.
// A const private_key may be used from several threads at once (OpenSSL 3 EVP_PKEY rules).

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/handles.hpp"
#include "core/crypto/key_type.hpp"

namespace certfleet::core {

// The type of a public or private key, or nullopt if it is not one we support.
[[nodiscard]] std::optional<key_type> key_type_of(const EVP_PKEY* key) noexcept;

class private_key
{
public:
    // A fresh key from the OpenSSL CSPRNG. Errors: crypto_failure.
    [[nodiscard]] static boost::system::result<private_key> generate(key_type type);

    // The first private key in `pem`: PKCS#8 ("PRIVATE KEY") or traditional ("EC PRIVATE KEY",
    // "RSA PRIVATE KEY"); other PEM blocks and text around them are skipped. Encrypted keys are
    // refused (no passphrase prompt ever happens). Errors: invalid_key (no key, encrypted,
    // public half not matching), unsupported_key (another algorithm, curve or size),
    // invalid_argument (input over 1 MiB).
    [[nodiscard]] static boost::system::result<private_key> from_pem(std::string_view pem);

    // Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); "" only if OpenSSL cannot
    // allocate. The result is key material: callers seal it (sealed_box.hpp) before it is stored,
    // and should not keep it longer than needed (secret::adopt wipes a string).
    [[nodiscard]] std::string to_pem() const;

    [[nodiscard]] key_type type() const noexcept { return type_; }
    [[nodiscard]] EVP_PKEY* get() const noexcept { return key_.get(); }

    // SubjectPublicKeyInfo, DER (RFC 5280 section 4.1.2.7).
    [[nodiscard]] std::string public_key_der() const { return public_key_der_; }

    // The public key as a JWK (RFC 7518 section 6), members in lexicographic order:
    // EC {crv, kty, x, y} with coordinates zero-padded to the field size (section 6.2.1.2);
    // RSA {e, kty, n} without leading zero octets (section 6.3.1).
    [[nodiscard]] const nlohmann::json& public_jwk() const noexcept { return public_jwk_; }

    // Takes an OpenSSL key pair built elsewhere (p256.hpp builds one from a raw scalar), with the
    // same checks as from_pem. Errors: unsupported_key, invalid_key, crypto_failure.
    [[nodiscard]] static boost::system::result<private_key> adopt(pkey_ptr key);

private:
    private_key(pkey_ptr key, key_type type, std::string spki, nlohmann::json jwk) noexcept;

    // A key of `type` whose halves agree by construction: no trial signature. Only for the
    // builders that construct the pair themselves.
    [[nodiscard]] static boost::system::result<private_key> derived(pkey_ptr key, key_type type);
    friend boost::system::result<private_key> p256_key_from_scalar(std::string_view scalar);

    pkey_ptr key_;
    key_type type_;
    std::string public_key_der_;
    nlohmann::json public_jwk_;
};

} // namespace certfleet::core

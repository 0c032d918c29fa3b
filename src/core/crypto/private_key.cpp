#include "core/crypto/private_key.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <utility>

#include "core/crypto/encoding.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr std::size_t max_pem_size = std::size_t{1024} * 1024;

struct key_type_info
{
    key_type type;
    std::string_view name;
    const char* algorithm; // OpenSSL key type
    const char* group;     // EC curve (JWK "crv" spelling is also OpenSSL's alias)
    int rsa_bits;
};

constexpr std::array<key_type_info, 5> key_types{{
    {key_type::ec_p256, "ec-p256", "EC", "P-256", 0},
    {key_type::ec_p384, "ec-p384", "EC", "P-384", 0},
    {key_type::rsa_2048, "rsa-2048", "RSA", nullptr, 2048},
    {key_type::rsa_3072, "rsa-3072", "RSA", nullptr, 3072},
    {key_type::rsa_4096, "rsa-4096", "RSA", nullptr, 4096},
}};

const key_type_info& info(key_type type) noexcept
{
    return key_types[static_cast<std::size_t>(type)];
}

// Refuses every passphrase request: stored keys are sealed by us, not PEM-encrypted, and a
// library must never fall back to OpenSSL's default of prompting on the terminal.
int refuse_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/)
{
    return -1;
}

std::optional<std::string> bignum_param(const EVP_PKEY* key, const char* name, int pad_to)
{
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
        return std::nullopt;
    }
    const bignum_ptr bn{raw};
    const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
    std::string out(static_cast<std::size_t>(size), '\0');
    auto* dest = reinterpret_cast<unsigned char*>(out.data());
    const int written =
        pad_to > 0 ? BN_bn2binpad(bn.get(), dest, pad_to) : BN_bn2bin(bn.get(), dest);
    if (written != size) {
        return std::nullopt;
    }
    return out;
}

// RFC 7518 section 6.2.1.2: each coordinate is exactly the field size, leading zeros kept.
std::optional<nlohmann::json> compute_public_jwk(const EVP_PKEY* key, key_type type)
{
    if (type == key_type::ec_p256 || type == key_type::ec_p384) {
        const int field = type == key_type::ec_p256 ? 32 : 48;
        auto x = bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_X, field);
        auto y = bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, field);
        if (!x || !y) {
            return std::nullopt;
        }
        return nlohmann::json{
            {"crv", info(type).group},
            {"kty", "EC"},
            {"x", base64url_encode(*x)},
            {"y", base64url_encode(*y)},
        };
    }
    auto n = bignum_param(key, OSSL_PKEY_PARAM_RSA_N, 0);
    auto e = bignum_param(key, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n || !e || n->empty() || e->empty()) {
        return std::nullopt;
    }
    return nlohmann::json{
        {"e", base64url_encode(*e)},
        {"kty", "RSA"},
        {"n", base64url_encode(*n)},
    };
}

// Signs a fixed message with the private half and verifies it with the public half. This is
// the check that matters (the pair works together) at the cost of one private-key operation;
// EVP_PKEY_pairwise_check would also prove RSA's primes prime, which costs 65 ms for RSA-2048
// and 400 ms for RSA-4096 on every load.
bool signs_and_verifies(EVP_PKEY* key)
{
    constexpr std::string_view probe = "certfleet private key self-test";
    const md_ctx_ptr sign{EVP_MD_CTX_new()};
    const md_ctx_ptr verify{EVP_MD_CTX_new()};
    if (!sign || !verify ||
        EVP_DigestSignInit(sign.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        return false;
    }
    std::size_t size = 0;
    if (EVP_DigestSign(sign.get(), nullptr, &size, detail::bytes(probe), probe.size()) != 1) {
        return false;
    }
    std::string signature(size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(signature.data());
    if (EVP_DigestSign(sign.get(), out, &size, detail::bytes(probe), probe.size()) != 1 ||
        EVP_DigestVerifyInit(verify.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        return false;
    }
    return EVP_DigestVerify(verify.get(), out, size, detail::bytes(probe), probe.size()) == 1;
}

} // namespace

std::string_view to_string(key_type type) noexcept
{
    return info(type).name;
}

std::optional<key_type> key_type_from_string(std::string_view text) noexcept
{
    for (const auto& k : key_types) {
        if (k.name == text) {
            return k.type;
        }
    }
    return std::nullopt;
}

std::optional<key_type> key_type_of(const EVP_PKEY* key) noexcept
{
    if (key == nullptr) {
        return std::nullopt;
    }
    const detail::error_queue_guard guard;
    if (EVP_PKEY_is_a(key, "EC") == 1) {
        std::array<char, 64> group{};
        std::size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(
                key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &length
            ) != 1) {
            return std::nullopt; // explicit curve parameters: refused
        }
        const std::string_view name{group.data(), length};
        if (name == "prime256v1" || name == "P-256") {
            return key_type::ec_p256;
        }
        if (name == "secp384r1" || name == "P-384") {
            return key_type::ec_p384;
        }
        return std::nullopt;
    }
    if (EVP_PKEY_is_a(key, "RSA") == 1) {
        for (const auto& k : key_types) {
            if (k.rsa_bits != 0 && k.rsa_bits == EVP_PKEY_get_bits(key)) {
                return k.type;
            }
        }
    }
    return std::nullopt;
}

private_key::private_key(pkey_ptr key, key_type type, std::string spki, nlohmann::json jwk) noexcept
    : key_{std::move(key)}, type_{type}, public_key_der_{std::move(spki)},
      public_jwk_(std::move(jwk)) // not {}: that would make a one-element array
{}

boost::system::result<private_key> private_key::adopt(pkey_ptr key)
{
    const auto type = key_type_of(key.get());
    if (!type) {
        return errc::unsupported_key;
    }
    // A key whose stored public half does not belong to its private half would sign with one
    // key and advertise another; refuse it here rather than at the CA.
    if (!signs_and_verifies(key.get())) {
        return errc::invalid_key;
    }
    return derived(std::move(key), *type);
}

boost::system::result<private_key> private_key::derived(pkey_ptr key, key_type type)
{
    auto spki = detail::to_der(key.get(), [](EVP_PKEY* k, unsigned char** out) {
        return i2d_PUBKEY(k, out);
    });
    auto jwk = compute_public_jwk(key.get(), type);
    if (spki.empty() || !jwk) {
        return errc::crypto_failure;
    }
    return private_key{std::move(key), type, std::move(spki), std::move(*jwk)};
}

boost::system::result<private_key> private_key::generate(key_type type)
{
    const detail::error_queue_guard guard;
    const auto& k = info(type);
    const pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, k.algorithm, nullptr)};
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
        return errc::crypto_failure;
    }
    const int set = k.group != nullptr ? EVP_PKEY_CTX_set_group_name(ctx.get(), k.group)
                                       : EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), k.rsa_bits);
    EVP_PKEY* raw = nullptr;
    if (set != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1) {
        return errc::crypto_failure;
    }
    return derived(pkey_ptr{raw}, type); // OpenSSL made the pair: nothing to cross-check
}

boost::system::result<private_key> private_key::from_pem(std::string_view pem)
{
    const detail::error_queue_guard guard;
    if (pem.size() > max_pem_size) {
        return errc::invalid_argument;
    }
    const auto bio = detail::memory_bio(pem);
    if (!bio) {
        return errc::crypto_failure;
    }
    pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr)};
    if (!key) {
        return errc::invalid_key;
    }
    return adopt(std::move(key));
}

std::string private_key::to_pem() const
{
    const detail::error_queue_guard guard;
    // A memory BIO frees its buffer with OPENSSL_clear_free, so only the returned copy remains.
    const bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1) {
        return {};
    }
    return detail::memory_bio_contents(bio.get());
}

} // namespace certfleet::core

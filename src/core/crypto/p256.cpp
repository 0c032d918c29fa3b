#include "core/crypto/p256.hpp"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <optional>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr const char* group_name = "P-256";
constexpr unsigned char uncompressed = 0x04;

// The point scalar * G, uncompressed; empty when the scalar is out of range [1, n-1].
std::string public_point_of(const BIGNUM* scalar)
{
    const ec_group_ptr group{EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)};
    const bn_ctx_ptr ctx{BN_CTX_secure_new()};
    if (!group || !ctx || BN_is_zero(scalar) || BN_is_negative(scalar) ||
        BN_cmp(scalar, EC_GROUP_get0_order(group.get())) >= 0) {
        return {};
    }
    const ec_point_ptr point{EC_POINT_new(group.get())};
    std::array<unsigned char, p256_point_size> out{};
    if (!point ||
        EC_POINT_mul(group.get(), point.get(), scalar, nullptr, nullptr, ctx.get()) != 1 ||
        EC_POINT_point2oct(
            group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(),
            ctx.get()
        ) != out.size()) {
        return {};
    }
    return std::string{detail::chars(out.data(), out.size())};
}

// An EVP_PKEY of P-256 from parameters: a public key, or a pair when `scalar` is given.
pkey_ptr pkey_from(std::string_view point, const BIGNUM* scalar)
{
    const param_bld_ptr build{OSSL_PARAM_BLD_new()};
    if (!build ||
        OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(
            build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()
        ) != 1 ||
        (scalar != nullptr &&
         OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar) != 1)) {
        return nullptr;
    }
    const params_ptr params{OSSL_PARAM_BLD_to_param(build.get())};
    const pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(
            ctx.get(), &raw, scalar != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
            params.get()
        ) != 1) {
        return nullptr;
    }
    return pkey_ptr{raw};
}

std::optional<std::string> coordinate(const EVP_PKEY* key, const char* name)
{
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
        return std::nullopt;
    }
    const bignum_ptr bn{raw};
    std::string out(p256_scalar_size, '\0');
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
        return std::nullopt;
    }
    return out;
}

// The uncompressed point of a P-256 key; empty if OpenSSL cannot give its coordinates.
std::string point_of(const EVP_PKEY* key)
{
    const auto x = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X);
    const auto y = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) {
        return {};
    }
    std::string out(1, static_cast<char>(uncompressed));
    out.append(*x).append(*y);
    return out;
}

// A constant-time secure BIGNUM of a 32-byte scalar (its range is checked by public_point_of).
boost::system::result<bignum_ptr> scalar_bignum(std::string_view scalar)
{
    if (scalar.size() != p256_scalar_size) {
        return errc::invalid_key;
    }
    // A secure BIGNUM: OSSL_PARAM_BLD copies it into the block that params_ptr wipes.
    bignum_ptr d{BN_secure_new()};
    if (!d ||
        BN_bin2bn(detail::bytes(scalar), static_cast<int>(scalar.size()), d.get()) == nullptr) {
        return errc::crypto_failure;
    }
    BN_set_flags(d.get(), BN_FLG_CONSTTIME);
    return d;
}

} // namespace

boost::system::result<pkey_ptr> p256_pkey_from_scalar(std::string_view scalar)
{
    const detail::error_queue_guard guard;
    auto d = scalar_bignum(scalar);
    if (!d) {
        return d.error();
    }
    const auto point = public_point_of(d->get());
    if (point.empty()) {
        return errc::invalid_key;
    }
    auto key = pkey_from(point, d->get());
    if (!key) {
        return errc::crypto_failure;
    }
    return key;
}

boost::system::result<private_key> p256_key_from_scalar(std::string_view scalar)
{
    auto key = p256_pkey_from_scalar(scalar);
    if (!key) {
        return key.error();
    }
    return private_key::derived(std::move(*key), key_type::ec_p256);
}

boost::system::result<std::string> p256_point_of_scalar(std::string_view scalar)
{
    const detail::error_queue_guard guard;
    auto d = scalar_bignum(scalar);
    if (!d) {
        return d.error();
    }
    auto point = public_point_of(d->get());
    if (point.empty()) {
        return errc::invalid_key;
    }
    return point;
}

boost::system::result<p256_raw_pair> p256_generate()
{
    const detail::error_queue_guard guard;
    const pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group_name)};
    BIGNUM* raw = nullptr;
    if (!key || EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
        return errc::crypto_failure;
    }
    const bignum_ptr d{raw};
    p256_raw_pair out{secret::with_size(p256_scalar_size), point_of(key.get())};
    if (out.point.empty() ||
        BN_bn2binpad(d.get(), reinterpret_cast<unsigned char*>(out.scalar.data()), 32) != 32) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<p256_ephemeral_agreement> p256_ephemeral_ecdh(std::string_view peer_point)
{
    const pkey_ptr key{[] {
        const detail::error_queue_guard guard;
        return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group_name);
    }()};
    if (!key) {
        return errc::crypto_failure;
    }
    auto shared = p256_ecdh(key.get(), peer_point);
    if (!shared) {
        return shared.error();
    }
    p256_ephemeral_agreement out{point_of(key.get()), std::move(*shared)};
    if (out.point.empty()) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<secret> p256_scalar(const private_key& key)
{
    const detail::error_queue_guard guard;
    if (key.type() != key_type::ec_p256) {
        return errc::unsupported_key;
    }
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
        return errc::crypto_failure;
    }
    const bignum_ptr d{raw};
    auto out = secret::with_size(p256_scalar_size);
    if (BN_bn2binpad(d.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<std::string> p256_point(const EVP_PKEY* key)
{
    const detail::error_queue_guard guard;
    if (key_type_of(key) != key_type::ec_p256) {
        return errc::unsupported_key;
    }
    auto point = point_of(key);
    if (point.empty()) {
        return errc::unsupported_key;
    }
    return point;
}

boost::system::result<pkey_ptr> p256_public_key(std::string_view point)
{
    const detail::error_queue_guard guard;
    if (point.size() != p256_point_size || static_cast<unsigned char>(point[0]) != uncompressed) {
        return errc::invalid_key;
    }
    // EVP_PKEY_fromdata decodes the point with EC_POINT_oct2point, which refuses a point that
    // is not on the curve (the invalid-curve attack on ECDH).
    auto key = pkey_from(point, nullptr);
    if (!key) {
        return errc::invalid_key;
    }
    return key;
}

boost::system::result<secret> p256_ecdh(const private_key& key, std::string_view peer_point)
{
    if (key.type() != key_type::ec_p256) {
        return errc::unsupported_key;
    }
    return p256_ecdh(key.get(), peer_point);
}

boost::system::result<secret> p256_ecdh(EVP_PKEY* key, std::string_view peer_point)
{
    auto peer = p256_public_key(peer_point);
    if (!peer) {
        return peer.error();
    }
    const detail::error_queue_guard guard;
    // EVP_PKEY_derive_set_peer also refuses a peer on another curve than `key`.
    const pkey_ctx_ptr ctx{EVP_PKEY_CTX_new(key, nullptr)};
    auto out = secret::with_size(p256_scalar_size);
    std::size_t size = out.size();
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer->get()) != 1 ||
        EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size) != 1 ||
        size != p256_scalar_size) {
        return errc::crypto_failure;
    }
    return out;
}

} // namespace certfleet::core

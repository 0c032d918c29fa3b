#include "core/crypto/p256.hpp"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <optional>

#include "core/crypto/hash.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr const char* group_name = "P-256";
constexpr unsigned char uncompressed = 0x04;

// The curve, built once: building it (its Montgomery constants) cost about as much as an import
// of a key, and an OpenSSL key import builds it again each time. An EC_GROUP is only read by the
// point operations, so one may serve every thread. Null if OpenSSL cannot build it.
const EC_GROUP* curve()
{
    static const ec_group_ptr group{EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)};
    return group.get();
}

bool scalar_in_range(const BIGNUM* scalar)
{
    return !BN_is_zero(scalar) && !BN_is_negative(scalar) &&
           BN_cmp(scalar, EC_GROUP_get0_order(curve())) < 0;
}

// `point`, uncompressed; empty if it cannot be encoded (the point at infinity).
std::string encoded(const EC_POINT* point, BN_CTX* ctx)
{
    std::array<unsigned char, p256_point_size> out{};
    if (EC_POINT_point2oct(
            curve(), point, POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), ctx
        ) != out.size()) {
        return {};
    }
    return std::string{detail::chars(out.data(), out.size())};
}

// The point scalar * G, uncompressed; empty when the scalar is out of range [1, n-1].
std::string public_point_of(const BIGNUM* scalar)
{
    const bn_ctx_ptr ctx{BN_CTX_secure_new()};
    if (curve() == nullptr || !ctx || !scalar_in_range(scalar)) {
        return {};
    }
    const ec_point_ptr point{EC_POINT_new(curve())};
    if (!point || EC_POINT_mul(curve(), point.get(), scalar, nullptr, nullptr, ctx.get()) != 1) {
        return {};
    }
    return encoded(point.get(), ctx.get());
}

// A point of the curve from its uncompressed encoding; null when it is not one (65 bytes, 0x04,
// on the curve: EC_POINT_oct2point checks the equation, which stops the invalid-curve attack).
ec_point_ptr decoded(std::string_view point, BN_CTX* ctx)
{
    if (curve() == nullptr || point.size() != p256_point_size ||
        static_cast<unsigned char>(point[0]) != uncompressed) {
        return nullptr;
    }
    ec_point_ptr out{EC_POINT_new(curve())};
    if (!out ||
        EC_POINT_oct2point(curve(), out.get(), detail::bytes(point), point.size(), ctx) != 1) {
        return nullptr;
    }
    return out;
}

// SEC 1 3.3.1 with cofactor 1 (P-256's): the X coordinate of scalar * peer, as OpenSSL's own
// ECDH computes it (one EC_POINT_mul over a constant-time scalar). Errors: crypto_failure.
boost::system::result<secret> agree(const BIGNUM* scalar, const EC_POINT* peer, BN_CTX* ctx)
{
    const ec_point_ptr product{EC_POINT_new(curve())};
    const bignum_ptr x{BN_new()};
    auto out = secret::with_size(p256_scalar_size);
    if (!product || !x || EC_POINT_mul(curve(), product.get(), nullptr, peer, scalar, ctx) != 1 ||
        EC_POINT_is_at_infinity(curve(), product.get()) == 1 ||
        EC_POINT_get_affine_coordinates(curve(), product.get(), x.get(), nullptr, ctx) != 1 ||
        BN_bn2binpad(x.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
        return errc::crypto_failure;
    }
    return out;
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

// The private scalar of a P-256 key, constant-time.
boost::system::result<bignum_ptr> private_scalar(const EVP_PKEY* key)
{
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) {
        return errc::crypto_failure;
    }
    bignum_ptr d{raw};
    BN_set_flags(d.get(), BN_FLG_CONSTTIME);
    return d;
}

// ECDH of an in-range scalar with an encoded peer point. Errors: invalid_key for a peer that
// is not a point of the curve, crypto_failure.
boost::system::result<secret> agree_with_point(const BIGNUM* scalar, std::string_view peer_point)
{
    const bn_ctx_ptr ctx{BN_CTX_secure_new()};
    if (curve() == nullptr || !ctx) {
        return errc::crypto_failure;
    }
    const auto peer = decoded(peer_point, ctx.get());
    if (!peer) {
        return errc::invalid_key;
    }
    return agree(scalar, peer.get(), ctx.get());
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
    if (!key) {
        return errc::crypto_failure;
    }
    const auto d = private_scalar(key.get());
    if (!d) {
        return d.error();
    }
    p256_raw_pair out{secret::with_size(p256_scalar_size), point_of(key.get())};
    if (out.point.empty() ||
        BN_bn2binpad(d->get(), reinterpret_cast<unsigned char*>(out.scalar.data()), 32) != 32) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<p256_ephemeral_agreement> p256_ephemeral_ecdh(std::string_view peer_point)
{
    const detail::error_queue_guard guard;
    const bn_ctx_ptr ctx{BN_CTX_secure_new()};
    if (!ctx) {
        return errc::crypto_failure;
    }
    const auto peer = decoded(peer_point, ctx.get());
    if (!peer) {
        return errc::invalid_key;
    }
    // The key generation of OpenSSL's EC keys (a uniform scalar in [1, n-1], then scalar * G),
    // without the key object around it: HPKE's Encap needs only the point and the agreement.
    const bignum_ptr scalar{BN_secure_new()};
    if (!scalar) {
        return errc::crypto_failure;
    }
    BN_set_flags(scalar.get(), BN_FLG_CONSTTIME);
    do {
        if (BN_priv_rand_range_ex(scalar.get(), EC_GROUP_get0_order(curve()), 0, ctx.get()) != 1) {
            return errc::crypto_failure;
        }
    } while (BN_is_zero(scalar.get()));
    p256_ephemeral_agreement out{public_point_of(scalar.get()), {}};
    auto shared = agree(scalar.get(), peer.get(), ctx.get());
    if (out.point.empty() || !shared) {
        return errc::crypto_failure;
    }
    out.shared = std::move(*shared);
    return out;
}

boost::system::result<secret> p256_scalar(const private_key& key)
{
    const detail::error_queue_guard guard;
    if (key.type() != key_type::ec_p256) {
        return errc::unsupported_key;
    }
    const auto d = private_scalar(key.get());
    if (!d) {
        return d.error();
    }
    auto out = secret::with_size(p256_scalar_size);
    if (BN_bn2binpad(d->get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
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
    const detail::error_queue_guard guard;
    if (key_type_of(key) != key_type::ec_p256) {
        return errc::unsupported_key;
    }
    const auto d = private_scalar(key);
    if (!d) {
        return d.error();
    }
    return agree_with_point(d->get(), peer_point);
}

boost::system::result<secret>
p256_ecdh_with_scalar(std::string_view scalar, std::string_view peer_point)
{
    const detail::error_queue_guard guard;
    auto d = scalar_bignum(scalar);
    if (!d) {
        return d.error();
    }
    if (curve() == nullptr || !scalar_in_range(d->get())) {
        return errc::invalid_key;
    }
    return agree_with_point(d->get(), peer_point);
}

bool p256_verify_es256(std::string_view point, std::string_view message, std::string_view signature)
{
    const detail::error_queue_guard guard;
    const bn_ctx_ptr ctx{BN_CTX_new()};
    if (!ctx || signature.size() != 2 * p256_scalar_size) {
        return false;
    }
    const auto q = decoded(point, ctx.get());
    if (!q) {
        return false;
    }
    // ECDSA verification (SEC 1 4.1.4), as OpenSSL's own: u1 = e/s, u2 = r/s (mod n), then the X
    // coordinate of u1*G + u2*Q must equal r (mod n). Everything here is public.
    const auto digest = sha256(message);
    const auto* order = EC_GROUP_get0_order(curve());
    const bignum_ptr r{BN_bin2bn(detail::bytes(signature.substr(0, 32)), 32, nullptr)};
    const bignum_ptr s{BN_bin2bn(detail::bytes(signature.substr(32)), 32, nullptr)};
    const bignum_ptr e{BN_bin2bn(detail::bytes(digest), static_cast<int>(digest.size()), nullptr)};
    const bignum_ptr w{BN_new()};
    const bignum_ptr u1{BN_new()};
    const bignum_ptr u2{BN_new()};
    const bignum_ptr x{BN_new()};
    const ec_point_ptr sum{EC_POINT_new(curve())};
    if (!r || !s || !e || !w || !u1 || !u2 || !x || !sum || BN_is_zero(r.get()) ||
        BN_cmp(r.get(), order) >= 0 || BN_is_zero(s.get()) || BN_cmp(s.get(), order) >= 0) {
        return false;
    }
    return BN_mod_inverse(w.get(), s.get(), order, ctx.get()) != nullptr &&
           BN_mod_mul(u1.get(), e.get(), w.get(), order, ctx.get()) == 1 &&
           BN_mod_mul(u2.get(), r.get(), w.get(), order, ctx.get()) == 1 &&
           EC_POINT_mul(curve(), sum.get(), u1.get(), q.get(), u2.get(), ctx.get()) == 1 &&
           EC_POINT_is_at_infinity(curve(), sum.get()) != 1 &&
           EC_POINT_get_affine_coordinates(curve(), sum.get(), x.get(), nullptr, ctx.get()) == 1 &&
           BN_nnmod(x.get(), x.get(), order, ctx.get()) == 1 && BN_cmp(x.get(), r.get()) == 0;
}

} // namespace certfleet::core

#include "core/crypto/p256.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/crypto/encoding.hpp"
#include "core/crypto/jws.hpp"
#include "core/errc.hpp"
#include "support/hex.hpp"

using namespace certfleet::core;
using certfleet::test::from_hex;

namespace {

// The order n of P-256 (SEC 2 2.4.2) and the base point G.
const std::string order =
    from_hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const std::string generator =
    from_hex("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
             "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");

std::string scalar_of(unsigned char last)
{
    std::string s(32, '\0');
    s.back() = static_cast<char>(last);
    return s;
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("a P-256 key from its scalar has the point scalar times G (SEC 1 2.3.3)")
    {
        const auto one = p256_key_from_scalar(scalar_of(1)).value();
        CHECK(to_hex(p256_point(one.get()).value()) == to_hex(generator));
        CHECK(to_hex(p256_scalar(one).value().view()) == to_hex(scalar_of(1)));

        auto n_minus_1 = order;
        n_minus_1.back() = static_cast<char>(n_minus_1.back() - 1);
        const auto minus_one = p256_key_from_scalar(n_minus_1).value();
        // (n-1)G = -G: same X, Y negated.
        const auto point = p256_point(minus_one.get()).value();
        CHECK(point.substr(0, 33) == generator.substr(0, 33));
        CHECK(point.substr(33) != generator.substr(33));
    }

    TEST_CASE("a generated key survives scalar and point round trips")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        const auto scalar = p256_scalar(key).value();
        const auto point = p256_point(key.get()).value();
        REQUIRE(scalar.size() == 32);
        REQUIRE(point.size() == 65);
        const auto again = p256_key_from_scalar(scalar.view()).value();
        CHECK(p256_point(again.get()).value() == point);
        CHECK(again.public_key_der() == key.public_key_der());
        const auto pub = p256_public_key(point).value();
        CHECK(p256_point(pub.get()).value() == point);
    }

    TEST_CASE("scalars zero, n, above n or of another size are refused")
    {
        CHECK(p256_key_from_scalar(std::string(32, '\0')).error() == errc::invalid_key);
        CHECK(p256_key_from_scalar(order).error() == errc::invalid_key);
        CHECK(p256_key_from_scalar(std::string(32, '\xff')).error() == errc::invalid_key);
        CHECK(p256_key_from_scalar(scalar_of(1).substr(1)).error() == errc::invalid_key);
        CHECK(p256_key_from_scalar(scalar_of(1) + "x").error() == errc::invalid_key);
        const auto rsa = private_key::generate(key_type::rsa_2048).value();
        CHECK(p256_scalar(rsa).error() == errc::unsupported_key);
        CHECK(p256_point(rsa.get()).error() == errc::unsupported_key);
    }

    TEST_CASE("points off the curve, compressed or truncated are refused")
    {
        auto off = generator;
        off.back() = static_cast<char>(off.back() ^ 0x01);
        CHECK(p256_public_key(off).error() == errc::invalid_key);
        auto compressed = generator.substr(0, 33);
        compressed[0] = '\x03';
        CHECK(p256_public_key(compressed).error() == errc::invalid_key);
        CHECK(p256_public_key(generator.substr(0, 64)).error() == errc::invalid_key);
        auto wrong_tag = generator;
        wrong_tag[0] = '\x06';
        CHECK(p256_public_key(wrong_tag).error() == errc::invalid_key);
        CHECK(p256_public_key(std::string(65, '\0')).error() == errc::invalid_key);
        const auto key = p256_key_from_scalar(scalar_of(7)).value();
        CHECK(p256_ecdh(key, off).error() == errc::invalid_key);
    }

    TEST_CASE("ECDH is symmetric and gives the X coordinate of the product")
    {
        const auto a = private_key::generate(key_type::ec_p256).value();
        const auto b = private_key::generate(key_type::ec_p256).value();
        const auto ab = p256_ecdh(a, p256_point(b.get()).value()).value();
        const auto ba = p256_ecdh(b, p256_point(a.get()).value()).value();
        CHECK(ab.size() == 32);
        CHECK(to_hex(ab.view()) == to_hex(ba.view()));
        // 2 * G computed by ECDH of scalar 2 with G equals the X of the key of scalar 2.
        const auto two = p256_key_from_scalar(scalar_of(2)).value();
        const auto x2 =
            p256_ecdh(p256_key_from_scalar(scalar_of(1)).value(), p256_point(two.get()).value())
                .value();
        CHECK(to_hex(x2.view()) == to_hex(p256_point(two.get()).value().substr(1, 32)));
    }

    TEST_CASE("ES256 with a key from its scalar verifies against its point only")
    {
        const auto key =
            p256_key_from_scalar(
                from_hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
            )
                .value();
        const auto signature = jws_signature(key, "sample").value();
        CHECK(signature.size() == 64);
        const auto pub = p256_public_key(p256_point(key.get()).value()).value();
        CHECK(verify_jws_signature(pub.get(), "sample", signature));
        CHECK_FALSE(verify_jws_signature(pub.get(), "samplf", signature));
        const auto other = p256_public_key(generator).value();
        CHECK_FALSE(verify_jws_signature(other.get(), "sample", signature));
    }

    TEST_CASE("bare keys and points from a scalar agree with p256_key_from_scalar")
    {
        const auto scalar =
            from_hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
        const auto full = p256_key_from_scalar(scalar).value();
        const auto point = p256_point(full.get()).value();
        CHECK(to_hex(p256_point_of_scalar(scalar).value()) == to_hex(point));
        CHECK(to_hex(p256_point_of_scalar(scalar_of(1)).value()) == to_hex(generator));
        const auto bare = p256_pkey_from_scalar(scalar).value();
        CHECK(to_hex(p256_point(bare.get()).value()) == to_hex(point));

        // ES256 with the bare key verifies against the point, and only for its message.
        const auto signature = es256_signature(bare.get(), "sample").value();
        CHECK(signature.size() == 64);
        const auto pub = p256_public_key(point).value();
        CHECK(verify_jws_signature(pub.get(), "sample", signature));
        CHECK_FALSE(verify_jws_signature(pub.get(), "samplf", signature));

        // ECDH with the bare key equals ECDH with the full one.
        const auto peer = private_key::generate(key_type::ec_p256).value();
        const auto peer_point = p256_point(peer.get()).value();
        CHECK(
            to_hex(p256_ecdh(bare.get(), peer_point).value().view()) ==
            to_hex(p256_ecdh(full, peer_point).value().view())
        );
        auto off = generator;
        off.back() = static_cast<char>(off.back() ^ 0x01);
        CHECK(p256_ecdh(bare.get(), off).error() == errc::invalid_key);
    }

    TEST_CASE("bare keys and points refuse the scalars p256_key_from_scalar refuses")
    {
        for (const auto& bad :
             {std::string(32, '\0'), order, std::string(32, '\xff'), scalar_of(1).substr(1),
              scalar_of(1) + "x"}) {
            CHECK(p256_pkey_from_scalar(bad).error() == errc::invalid_key);
            CHECK(p256_point_of_scalar(bad).error() == errc::invalid_key);
        }
    }

    TEST_CASE("a generated raw pair is a scalar and its point, fresh every time")
    {
        const auto a = p256_generate().value();
        const auto b = p256_generate().value();
        REQUIRE(a.scalar.size() == 32);
        REQUIRE(a.point.size() == 65);
        CHECK(to_hex(p256_point_of_scalar(a.scalar.view()).value()) == to_hex(a.point));
        CHECK(to_hex(a.scalar.view()) != to_hex(b.scalar.view()));
        CHECK(a.point != b.point);
    }

    TEST_CASE("ES256 with a bare key of another type fails")
    {
        const auto p384 = private_key::generate(key_type::ec_p384).value();
        CHECK(es256_signature(p384.get(), "sample").error() == errc::crypto_failure);
        const auto rsa = private_key::generate(key_type::rsa_2048).value();
        CHECK(es256_signature(rsa.get(), "sample").error() == errc::crypto_failure);
    }
    TEST_CASE("ECDH on a bare scalar agrees with ECDH on keys and refuses what they refuse")
    {
        const auto a = p256_generate().value();
        const auto b = private_key::generate(key_type::ec_p256).value();
        const auto b_point = p256_point(b.get()).value();
        const auto ab = p256_ecdh_with_scalar(a.scalar.view(), b_point).value();
        CHECK(to_hex(ab.view()) == to_hex(p256_ecdh(b, a.point).value().view()));
        // 1 * G: the shared X is G's own.
        CHECK(
            to_hex(p256_ecdh_with_scalar(scalar_of(1), generator).value().view()) ==
            to_hex(generator.substr(1, 32))
        );
        auto off = generator;
        off.back() = static_cast<char>(off.back() ^ 0x01);
        CHECK(p256_ecdh_with_scalar(a.scalar.view(), off).error() == errc::invalid_key);
        CHECK(
            p256_ecdh_with_scalar(a.scalar.view(), generator.substr(0, 33)).error() ==
            errc::invalid_key
        );
        for (const auto& bad : {std::string(32, '\0'), order, scalar_of(1).substr(1)}) {
            CHECK(p256_ecdh_with_scalar(bad, b_point).error() == errc::invalid_key);
        }
    }

    TEST_CASE("an ephemeral agreement is a fresh point whose secret the peer derives too")
    {
        const auto peer = p256_generate().value();
        const auto first = p256_ephemeral_ecdh(peer.point).value();
        const auto second = p256_ephemeral_ecdh(peer.point).value();
        REQUIRE(first.point.size() == 65);
        CHECK(first.point != second.point);
        CHECK(
            to_hex(p256_ecdh_with_scalar(peer.scalar.view(), first.point).value().view()) ==
            to_hex(first.shared.view())
        );
        auto off = generator;
        off.back() = static_cast<char>(off.back() ^ 0x01);
        CHECK(p256_ephemeral_ecdh(off).error() == errc::invalid_key);
    }

    TEST_CASE("ES256 verification on a bare point: RFC 6979 A.2.5 and what must not verify")
    {
        // RFC 6979 A.2.5, P-256 with SHA-256, message "sample".
        const auto point =
            from_hex("0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
                     "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
        const auto signature =
            from_hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
                     "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
        CHECK(p256_verify_es256(point, "sample", signature));
        CHECK_FALSE(p256_verify_es256(point, "samplf", signature));
        auto flipped = signature;
        flipped[40] = static_cast<char>(flipped[40] ^ 0x01);
        CHECK_FALSE(p256_verify_es256(point, "sample", flipped));
        // r or s zero or not below n; a short signature; a point off the curve.
        const auto zero = std::string(32, '\0');
        CHECK_FALSE(p256_verify_es256(point, "sample", zero + signature.substr(32)));
        CHECK_FALSE(p256_verify_es256(point, "sample", signature.substr(0, 32) + zero));
        CHECK_FALSE(p256_verify_es256(point, "sample", order + signature.substr(32)));
        CHECK_FALSE(p256_verify_es256(point, "sample", signature.substr(0, 32) + order));
        CHECK_FALSE(p256_verify_es256(point, "sample", signature.substr(0, 63)));
        auto off = point;
        off.back() = static_cast<char>(off.back() ^ 0x01);
        CHECK_FALSE(p256_verify_es256(off, "sample", signature));

        // It decides as OpenSSL's verification of the same key does.
        const auto key = p256_generate().value();
        const auto bare = p256_pkey_from_scalar(key.scalar.view()).value();
        const auto pub = p256_public_key(key.point).value();
        for (int i = 0; i < 20; ++i) {
            const auto message = "message " + std::to_string(i);
            const auto good = es256_signature(bare.get(), message).value();
            CHECK(p256_verify_es256(key.point, message, good));
            CHECK(verify_jws_signature(pub.get(), message, good));
            CHECK_FALSE(p256_verify_es256(key.point, message + "x", good));
            CHECK_FALSE(p256_verify_es256(point, message, good));
        }
    }
}

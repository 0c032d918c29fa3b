#include "windows/cng_crypto.hpp"

#include <doctest/doctest.h>

#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"
#include "support/hex.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using certfleet::test::from_hex;

namespace {

const cng_crypto crypto;

std::string hex(std::string_view bytes)
{
    return core::to_hex(bytes);
}

// RFC 6979 A.2.5: the P-256 key and its deterministic ES256 signature of "sample".
const std::string rfc6979_x =
    from_hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
const std::string rfc6979_u =
    from_hex("0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
             "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299");
const std::string rfc6979_signature =
    from_hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
             "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");

} // namespace

TEST_SUITE("windows")
{
    TEST_CASE("CNG hashes match the FIPS 180 and RFC 4231 examples")
    {
        CHECK(
            hex(crypto.sha256("abc")) ==
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        CHECK(hex(crypto.sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
        CHECK(
            hex(crypto.hmac_sha256("Jefe", "what do ya want for nothing?")) ==
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    TEST_CASE("the public point of a scalar is the RFC 6979 key and verifies its signature")
    {
        const auto pair = crypto.p256_from_scalar(rfc6979_x).value();
        CHECK(hex(pair.public_point) == hex(rfc6979_u));
        CHECK(crypto.verify_es256(rfc6979_u, "sample", rfc6979_signature));
        CHECK_FALSE(crypto.verify_es256(rfc6979_u, "samplE", rfc6979_signature));
        auto flipped = rfc6979_signature;
        flipped[40] = static_cast<char>(flipped[40] ^ 1);
        CHECK_FALSE(crypto.verify_es256(rfc6979_u, "sample", flipped));
        CHECK_FALSE(crypto.verify_es256(rfc6979_u, "sample", rfc6979_signature.substr(1)));
    }

    TEST_CASE("p256_from_scalar refuses zero, the order and short scalars")
    {
        CHECK(crypto.p256_from_scalar(std::string(32, '\0')).error() == errc::crypto_failure);
        CHECK(
            crypto
                .p256_from_scalar(
                    from_hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
                )
                .error() == errc::crypto_failure
        );
        CHECK(crypto.p256_from_scalar(std::string(31, '\x01')).error() == errc::crypto_failure);
    }

    TEST_CASE("CNG signatures of fresh keys verify, and only for their message and key")
    {
        const auto a = crypto.generate_p256().value();
        const auto b = crypto.generate_p256().value();
        CHECK(a.public_point.size() == 65);
        CHECK(a.public_point != b.public_point);
        CHECK(
            hex(crypto.p256_from_scalar(a.private_scalar.view()).value().public_point) ==
            hex(a.public_point)
        );
        const auto signature = crypto.sign_es256(a.private_scalar.view(), "message").value();
        CHECK(signature.size() == 64);
        CHECK(crypto.verify_es256(a.public_point, "message", signature));
        CHECK_FALSE(crypto.verify_es256(b.public_point, "message", signature));
        CHECK_FALSE(crypto.verify_es256(a.public_point, "massage", signature));
    }

    TEST_CASE("ECDH on CNG agrees both ways, big-endian, and refuses a point off the curve")
    {
        const auto a = crypto.generate_p256().value();
        const auto b = crypto.generate_p256().value();
        const auto ab = crypto.ecdh_p256(a.private_scalar.view(), b.public_point).value();
        const auto ba = crypto.ecdh_p256(b.private_scalar.view(), a.public_point).value();
        CHECK(ab.size() == 32);
        CHECK(hex(ab.view()) == hex(ba.view()));
        // d * G's X coordinate is the public point's X: the byte order CNG returns is undone.
        const auto with_g =
            crypto
                .ecdh_p256(
                    a.private_scalar.view(),
                    from_hex("046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                             "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
                )
                .value();
        CHECK(hex(with_g.view()) == hex(a.public_point.substr(1, 32)));
        auto off_curve = b.public_point;
        off_curve[64] = static_cast<char>(off_curve[64] ^ 1);
        CHECK(crypto.ecdh_p256(a.private_scalar.view(), off_curve).error() == errc::crypto_failure);
    }

    TEST_CASE("AES-GCM on CNG gives the GCM spec's test case 2 and refuses a changed tag or aad")
    {
        const std::string key(16, '\0');
        const std::string nonce(12, '\0');
        const auto sealed = crypto.aes_gcm_seal(key, nonce, "", std::string(16, '\0')).value();
        CHECK(hex(sealed) == "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
        CHECK(crypto.aes_gcm_open(key, nonce, "", sealed).value().view() == std::string(16, '\0'));
        auto tampered = sealed;
        tampered.back() = static_cast<char>(tampered.back() ^ 1);
        CHECK(crypto.aes_gcm_open(key, nonce, "", tampered).error() == errc::unseal_failed);
        CHECK(crypto.aes_gcm_open(key, nonce, "aad", sealed).error() == errc::unseal_failed);
        CHECK(crypto.aes_gcm_open(key, nonce, "", "short").error() == errc::unseal_failed);
        const std::string key256(32, '\x07');
        const auto empty = crypto.aes_gcm_seal(key256, nonce, "header", "").value();
        CHECK(empty.size() == 16);
        CHECK(crypto.aes_gcm_open(key256, nonce, "header", empty).value().empty());
        CHECK(crypto.aes_gcm_seal("short key", nonce, "", "x").error() == errc::crypto_failure);
    }

    TEST_CASE("CNG random bytes differ between calls")
    {
        const auto a = crypto.random_bytes(32).value();
        const auto b = crypto.random_bytes(32).value();
        CHECK(a.size() == 32);
        CHECK(a != b);
        CHECK(crypto.random_bytes(0).value().empty());
    }
}

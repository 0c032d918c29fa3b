#include "deploy/p256_scalar_mult.hpp"

#include <doctest/doctest.h>

#include "core/crypto/encoding.hpp"
#include "deploy/openssl_crypto.hpp"
#include "support/hex.hpp"

using namespace certfleet;
using namespace certfleet::deploy;

TEST_SUITE("deploy")
{
    TEST_CASE("portable P-256 multiplication agrees with OpenSSL for fresh keys")
    {
        const openssl_crypto crypto;
        for (int i = 0; i < 20; ++i) {
            const auto a = crypto.generate_p256().value();
            const auto b = crypto.generate_p256().value();
            CHECK(
                core::to_hex(p256_base_mult(a.private_scalar.view()).value()) ==
                core::to_hex(a.public_point)
            );
            const auto shared = crypto.ecdh_p256(a.private_scalar.view(), b.public_point).value();
            CHECK(
                core::to_hex(p256_ecdh_x(a.private_scalar.view(), b.public_point).value()) ==
                core::to_hex(shared.view())
            );
        }
    }

    TEST_CASE("portable P-256 multiplication refuses bad scalars and points off the curve")
    {
        using certfleet::test::from_hex;
        const openssl_crypto crypto;
        const auto a = crypto.generate_p256().value();
        const auto order =
            from_hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        CHECK_FALSE(p256_base_mult(std::string(32, '\0')).has_value());
        CHECK_FALSE(p256_base_mult(order).has_value());
        CHECK_FALSE(p256_base_mult("short").has_value());
        // n - 1 is the last valid scalar: -G.
        auto last = order;
        last.back() = static_cast<char>(last.back() - 1);
        CHECK(
            p256_base_mult(last).value().substr(1, 32) ==
            p256_base_mult(std::string(31, '\0') + '\x01').value().substr(1, 32)
        );
        auto off_curve = a.public_point;
        off_curve[64] = static_cast<char>(off_curve[64] ^ 1);
        CHECK_FALSE(p256_ecdh_x(a.private_scalar.view(), off_curve).has_value());
        CHECK_FALSE(p256_ecdh_x(a.private_scalar.view(), a.public_point.substr(1)).has_value());
        auto compressed = a.public_point;
        compressed[0] = '\x02';
        CHECK_FALSE(p256_ecdh_x(a.private_scalar.view(), compressed).has_value());
    }
}

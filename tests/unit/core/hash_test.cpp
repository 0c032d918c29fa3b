#include "core/crypto/hash.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/crypto/encoding.hpp"

using namespace certfleet::core;

TEST_SUITE("core")
{
    TEST_CASE("SHA-256 and SHA-1 match the FIPS 180-2 'abc' vectors")
    {
        CHECK(
            to_hex(sha256("abc")) ==
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        CHECK(to_hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
        CHECK(
            to_hex(sha384("abc")) ==
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7"
        );
        CHECK(sha256("").size() == 32);
    }

    TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2 and accepts an empty key")
    {
        CHECK(
            to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        CHECK(
            to_hex(hmac_sha256("", "")) ==
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
        );
    }

    TEST_CASE("constant_time_equal compares content and length")
    {
        CHECK(constant_time_equal("", ""));
        CHECK(constant_time_equal("secret", "secret"));
        CHECK_FALSE(constant_time_equal("secret", "secreT"));
        CHECK_FALSE(constant_time_equal("secret", "secret2"));
        CHECK_FALSE(constant_time_equal("", "a"));
        CHECK(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
        CHECK_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
    }
}

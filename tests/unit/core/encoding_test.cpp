#include "core/crypto/encoding.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "core/errc.hpp"

using namespace certfleet::core;
using namespace std::string_literals;

TEST_SUITE("core")
{
    TEST_CASE("base64 matches the RFC 4648 section 10 test vectors")
    {
        struct row
        {
            std::string_view bytes, standard, url;
        };
        const row rows[] = {
            {"", "", ""},
            {"f", "Zg==", "Zg"},
            {"fo", "Zm8=", "Zm8"},
            {"foo", "Zm9v", "Zm9v"},
            {"foob", "Zm9vYg==", "Zm9vYg"},
            {"fooba", "Zm9vYmE=", "Zm9vYmE"},
            {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
        };
        for (const auto& r : rows) {
            CAPTURE(r.bytes);
            CHECK(base64_encode(r.bytes) == r.standard);
            CHECK(base64_decode(r.standard).value() == r.bytes);
            CHECK(base64url_encode(r.bytes) == r.url);
            CHECK(base64url_decode(r.url).value() == r.bytes);
        }
    }

    TEST_CASE("base64url uses '-' and '_' and no padding (RFC 7515 appendix C)")
    {
        const std::string bytes = "\x03\xec\xff\xe0\xc1"s;
        CHECK(base64url_encode(bytes) == "A-z_4ME");
        CHECK(base64url_decode("A-z_4ME").value() == bytes);
        CHECK(base64_encode(bytes) == "A+z/4ME=");
        CHECK(base64_decode("A+z/4ME=").value() == bytes);
    }

    TEST_CASE("every byte value survives a round trip")
    {
        std::string all;
        for (int i = 0; i < 256; ++i) {
            all += static_cast<char>(i);
        }
        for (std::size_t n = 0; n <= all.size(); n += 37) {
            const auto part = all.substr(all.size() - n);
            CHECK(base64url_decode(base64url_encode(part)).value() == part);
            CHECK(base64_decode(base64_encode(part)).value() == part);
        }
    }

    TEST_CASE("base64url rejects padding, foreign characters and impossible lengths (RFC 7515 2)")
    {
        for (const std::string_view bad : {
                 "Zg==",   // padding
                 "Zg=",    // padding
                 "Zm9v+g", // standard alphabet
                 "Zm9v/g", // standard alphabet
                 "Zm9 v",  // whitespace
                 "Zm9v\n", // line break
                 "Z",      // length 1 mod 4
                 "Zm9vY",  // length 1 mod 4
                 "Zh",     // non-zero trailing bits (RFC 4648 3.5)
                 "Zm9",    // non-zero trailing bits
             }) {
            CAPTURE(bad);
            CHECK(base64url_decode(bad).error() == errc::invalid_encoding);
        }
        CHECK(base64url_decode(std::string_view{"Zg\0A", 4}).error() == errc::invalid_encoding);
    }

    TEST_CASE("base64 requires canonical padding and its own alphabet (RFC 4648 4)")
    {
        for (const std::string_view bad : {
                 "Zg",        // missing padding
                 "Zg=",       // short padding
                 "Zg===",     // too much padding
                 "====",      // only padding
                 "Z===",      // three padding characters
                 "Zg=a",      // padding in the middle
                 "Zm9v-g==",  // url alphabet
                 "Zm9v Zm9v", // whitespace
                 "Zh==",      // non-zero trailing bits
             }) {
            CAPTURE(bad);
            CHECK(base64_decode(bad).error() == errc::invalid_encoding);
        }
    }

    TEST_CASE("hex is lower case, two digits per byte")
    {
        CHECK(to_hex("") == "");
        CHECK(to_hex("\x00\xff\x10\xab"s) == "00ff10ab");
    }
}

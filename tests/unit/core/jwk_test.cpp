#include "core/crypto/jwk.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"

using namespace certfleet::core;
using nlohmann::json;

namespace {

// RFC 7638 section 3.1 (the RSA key of RFC 7517 appendix A.1).
const json rfc7638_key = {
    {"kty", "RSA"},
    {"n", "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
          "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
          "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
          "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
          "csFCur-kEgU8awapJzKnqDKgw"},
    {"e", "AQAB"},
    {"alg", "RS256"},
    {"kid", "2011-04-29"},
};

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("JWK thumbprint matches the RFC 7638 section 3.1 example")
    {
        CHECK(jwk_thumbprint(rfc7638_key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        // Optional members do not count (RFC 7638 section 3.2).
        json bare = rfc7638_key;
        bare.erase("alg");
        bare.erase("kid");
        CHECK(jwk_thumbprint(bare) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    TEST_CASE("JWK thumbprint of a malformed JWK is empty")
    {
        CHECK(jwk_thumbprint(json(nullptr)).empty());
        CHECK(jwk_thumbprint(json::array()).empty());
        CHECK(jwk_thumbprint(json{{"kty", "RSA"}, {"n", "AQAB"}}).empty());
        CHECK(jwk_thumbprint(json{{"kty", "RSA"}, {"n", "AQAB"}, {"e", 65537}}).empty());
        CHECK(jwk_thumbprint(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AA"}}).empty());
        CHECK(jwk_thumbprint(json{{"kty", 1}}).empty());
    }

    TEST_CASE("EC P-256 JWK has 43-character coordinates and hashes its canonical form (RFC 7518 "
              "6.2.1, RFC 7638 3.3)")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        const auto jwk = public_jwk(key);
        CHECK(jwk.size() == 4);
        CHECK(jwk["kty"] == "EC");
        CHECK(jwk["crv"] == "P-256");
        CHECK(jwk["x"].get<std::string>().size() == 43);
        CHECK(jwk["y"].get<std::string>().size() == 43);
        const std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" +
                                      jwk["x"].get<std::string>() + R"(","y":")" +
                                      jwk["y"].get<std::string>() + R"("})";
        CHECK(jwk.dump() == canonical);
        CHECK(jwk_thumbprint(key) == base64url_encode(sha256(canonical)));
        CHECK(jwk_thumbprint(key) == jwk_thumbprint(jwk));
        CHECK(jws_algorithm(key) == "ES256");
    }

    TEST_CASE("EC coordinates keep their leading zero octets (RFC 7518 6.2.1.2)")
    {
        // About one key in 128 has a coordinate below 2^248; look for one.
        bool found = false;
        for (int i = 0; i < 3000 && !found; ++i) {
            const auto key = private_key::generate(key_type::ec_p256).value();
            const auto jwk = public_jwk(key);
            for (const char* c : {"x", "y"}) {
                const auto raw = base64url_decode(jwk[c].get<std::string>()).value();
                REQUIRE(raw.size() == 32);
                found = found || raw[0] == '\0';
            }
        }
        CHECK(found);
    }

    TEST_CASE("EC P-384 JWK has 64-character coordinates")
    {
        const auto key = private_key::generate(key_type::ec_p384).value();
        const auto jwk = public_jwk(key);
        CHECK(jwk["crv"] == "P-384");
        CHECK(jwk["x"].get<std::string>().size() == 64);
        CHECK(jwk["y"].get<std::string>().size() == 64);
        CHECK(jws_algorithm(key) == "ES384");
    }

    TEST_CASE("RSA JWK has e and n without leading zero octets (RFC 7518 6.3.1)")
    {
        const auto key = private_key::generate(key_type::rsa_2048).value();
        const auto jwk = public_jwk(key);
        CHECK(jwk.size() == 3);
        CHECK(jwk["kty"] == "RSA");
        CHECK(jwk["e"] == "AQAB");
        const auto n = base64url_decode(jwk["n"].get<std::string>()).value();
        CHECK(n.size() == 256);
        CHECK(n[0] != '\0');
        CHECK(jws_algorithm(key) == "RS256");
        CHECK(jws_algorithm(key_type::rsa_4096) == "RS256");
    }
}

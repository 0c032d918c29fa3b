#include "core/crypto/jws.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/crypto/encoding.hpp"
#include "core/crypto/jwk.hpp"
#include "core/errc.hpp"

using namespace certfleet::core;
using nlohmann::json;

namespace {

// An independent check of a JWS signature with plain OpenSSL: R || S converted back to DER.
bool openssl_verifies(const private_key& key, const json& jws)
{
    const std::string input =
        jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
    auto signature = base64url_decode(jws["signature"].get<std::string>()).value();
    const EVP_MD* md = key.type() == key_type::ec_p384 ? EVP_sha384() : EVP_sha256();
    if (key.type() == key_type::ec_p256 || key.type() == key_type::ec_p384) {
        const auto half = static_cast<int>(signature.size() / 2);
        const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
        const ecdsa_sig_ptr sig{ECDSA_SIG_new()};
        REQUIRE(
            ECDSA_SIG_set0(
                sig.get(), BN_bin2bn(raw, half, nullptr), BN_bin2bn(raw + half, half, nullptr)
            ) == 1
        );
        unsigned char* der = nullptr;
        const int size = i2d_ECDSA_SIG(sig.get(), &der);
        REQUIRE(size > 0);
        signature.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
        OPENSSL_free(der);
    }
    const md_ctx_ptr ctx{EVP_MD_CTX_new()};
    REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) == 1);
    return EVP_DigestVerify(
               ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
               signature.size(), reinterpret_cast<const unsigned char*>(input.data()), input.size()
           ) == 1;
}

json flip_bit(json jws, const char* member, std::size_t byte)
{
    auto raw = base64url_decode(jws[member].get<std::string>()).value();
    raw[byte % raw.size()] = static_cast<char>(raw[byte % raw.size()] ^ 0x01);
    jws[member] = base64url_encode(raw);
    return jws;
}

json acme_header(const private_key& key)
{
    return {
        {"alg", std::string{jws_algorithm(key)}},
        {"jwk", public_jwk(key)},
        {"nonce", "6S8IqOGY7eL2lsGoTZYifg"},
        {"url", "https://example.com/acme/new-account"},
    };
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("HS256 reproduces the RFC 7515 appendix A.1 example")
    {
        // The exact header and payload octets of A.1, CR LF and spaces included.
        const std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
        const std::string payload =
            "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
        const auto key = base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"
                                          "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
                             .value();
        const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
        CHECK(
            input == "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                     "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9p"
                     "c19yb290Ijp0cnVlfQ"
        );
        const auto signature = base64url_encode(jws_signature_hs256(key, input));
        CHECK(signature == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

        const json jws = {
            {"protected", base64url_encode(header)},
            {"payload", base64url_encode(payload)},
            {"signature", signature},
        };
        const auto opened = open_jws_hs256(jws, key).value();
        CHECK(opened.payload == payload);
        CHECK(opened.protected_header["typ"] == "JWT");
        CHECK_FALSE(verify_jws_hs256(jws, key.substr(1)));
        CHECK_FALSE(verify_jws_hs256(flip_bit(jws, "signature", 5), key));
    }

    TEST_CASE("External Account Binding JWS signs and verifies with HS256 (RFC 8555 7.3.4)")
    {
        const auto account_key = private_key::generate(key_type::ec_p256).value();
        const std::string mac_key = "a MAC key from the CA, 32 bytes!";
        const json header = {
            {"alg", "HS256"},
            {"kid", "kid-1"},
            {"url", "https://example.com/acme/new-account"},
        };
        const auto eab = sign_jws_hs256(mac_key, header, public_jwk(account_key).dump()).value();
        CHECK(base64url_decode(eab["protected"].get<std::string>()).value() == header.dump());
        CHECK(base64url_decode(eab["signature"].get<std::string>()).value().size() == 32);
        CHECK(verify_jws_hs256(eab, mac_key));
        CHECK(json::parse(open_jws_hs256(eab, mac_key).value().payload) == public_jwk(account_key));
        CHECK_FALSE(verify_jws_hs256(eab, "another MAC key"));
        CHECK_FALSE(verify_jws_hs256(flip_bit(eab, "payload", 3), mac_key));
        CHECK(sign_jws_hs256("", header, "x").error() == errc::invalid_argument);
        CHECK(
            sign_jws_hs256(mac_key, json{{"alg", "HS512"}}, "x").error() == errc::invalid_argument
        );
    }

    TEST_CASE("ES256, ES384 and RS256 JWS verify with OpenSSL, R||S has the RFC 7518 3.4 size")
    {
        struct row
        {
            key_type type;
            std::size_t signature_size;
        };
        for (const row r :
             {row{key_type::ec_p256, 64}, row{key_type::ec_p384, 96},
              row{key_type::rsa_2048, 256}}) {
            CAPTURE(to_string(r.type));
            const auto key = private_key::generate(r.type).value();
            const auto header = acme_header(key);
            const std::string payload = R"({"termsOfServiceAgreed":true})";
            const auto jws = sign_jws(key, header, payload).value();
            CHECK(jws.size() == 3);
            CHECK(base64url_decode(jws["protected"].get<std::string>()).value() == header.dump());
            CHECK(base64url_decode(jws["payload"].get<std::string>()).value() == payload);
            CHECK(
                base64url_decode(jws["signature"].get<std::string>()).value().size() ==
                r.signature_size
            );
            CHECK(openssl_verifies(key, jws));
            CHECK(verify_jws(jws, key.get()));
            CHECK(open_jws(jws, key.get()).value().payload == payload);
            // A flipped bit anywhere fails.
            for (std::size_t byte : {std::size_t{0}, r.signature_size / 2, r.signature_size - 1}) {
                CHECK_FALSE(verify_jws(flip_bit(jws, "signature", byte), key.get()));
                CHECK_FALSE(openssl_verifies(key, flip_bit(jws, "signature", byte)));
            }
            CHECK_FALSE(verify_jws(flip_bit(jws, "payload", 7), key.get()));
            CHECK_FALSE(verify_jws(flip_bit(jws, "protected", 9), key.get()));
            const auto other = private_key::generate(r.type).value();
            CHECK_FALSE(verify_jws(jws, other.get()));
        }
    }

    TEST_CASE("a POST-as-GET JWS has an empty payload (RFC 8555 6.3)")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        json header = acme_header(key);
        header.erase("jwk");
        header["kid"] = "https://example.com/acme/acct/1";
        const auto jws = sign_jws(key, header, "").value();
        CHECK(jws["payload"] == "");
        CHECK(verify_jws(jws, key.get()));
        CHECK(open_jws(jws, key.get()).value().payload.empty());
    }

    TEST_CASE("signing refuses a header whose alg does not match the key")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        CHECK(sign_jws(key, json{{"alg", "RS256"}}, "x").error() == errc::invalid_argument);
        CHECK(sign_jws(key, json{{"nonce", "n"}}, "x").error() == errc::invalid_argument);
        CHECK(sign_jws(key, json::array({"ES256"}), "x").error() == errc::invalid_argument);
        CHECK(
            sign_jws(key, json{{"alg", "ES256"}, {"url", std::string("\xff\xfe")}}, "x").error() ==
            errc::invalid_argument
        );
    }

    TEST_CASE("verification rejects malformed JWS without throwing (RFC 7515 5.2)")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        const auto rsa = private_key::generate(key_type::rsa_2048).value();
        const auto p384 = private_key::generate(key_type::ec_p384).value();
        const auto good = sign_jws(key, acme_header(key), "{}").value();
        REQUIRE(verify_jws(good, key.get()));

        const auto with = [&](const char* member, json value) {
            json jws = good;
            jws[member] = std::move(value);
            return jws;
        };
        const auto with_header = [&](const json& header) {
            return with("protected", base64url_encode(header.dump()));
        };
        json no_signature = good;
        no_signature.erase("signature");
        json none_header = acme_header(key);
        none_header["alg"] = "none";
        json crit_header = acme_header(key);
        crit_header["crit"] = json::array({"b64"});

        const json bad[] = {
            json(nullptr),
            json::array(),
            json("a.b.c"),
            json::object(),
            no_signature,
            with("signature", 42),
            with("payload", json::object()),
            with("protected", "e30="), // padded base64url
            with("protected", "!!!"),  // not base64url
            with("protected", base64url_encode("not json")),
            with("protected", base64url_encode("[1,2]")),
            with("signature", ""), // empty signature
            with("signature", base64url_encode(std::string(63, 'x'))),
            with("signature", base64url_encode(std::string(65, 'x'))),
            with("header", json{{"alg", "ES256"}}), // unprotected header (RFC 8555 6.2)
            with_header(none_header),
            with_header(crit_header), // RFC 7515 4.1.11
        };
        for (const auto& jws : bad) {
            CAPTURE(jws.dump());
            CHECK_FALSE(verify_jws(jws, key.get()));
            CHECK_FALSE(verify_jws_hs256(jws, "mac key"));
        }
        CHECK(open_jws(json::array(), key.get()).error() == errc::invalid_encoding);
        CHECK(open_jws(with_header(none_header), key.get()).error() == errc::authentication_failed);

        // The key decides the algorithm: an ES256 JWS does not verify under RSA or P-384 keys,
        // nor as HS256 with any MAC key.
        CHECK_FALSE(verify_jws(good, rsa.get()));
        CHECK_FALSE(verify_jws(good, p384.get()));
        CHECK_FALSE(verify_jws(good, nullptr));
        CHECK_FALSE(verify_jws_hs256(good, ""));
        CHECK(open_jws(good, nullptr).error() == errc::unsupported_key);
    }

    TEST_CASE("a public key alone verifies a JWS")
    {
        const auto key = private_key::generate(key_type::ec_p384).value();
        const auto der = key.public_key_der();
        const auto* p = reinterpret_cast<const unsigned char*>(der.data());
        const pkey_ptr pub{d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()))};
        REQUIRE(pub);
        const auto jws = sign_jws(key, acme_header(key), "payload").value();
        CHECK(verify_jws(jws, pub.get()));
        const std::string input =
            jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
        const auto signature = jws_signature(key, input).value();
        CHECK(signature.size() == 96);
        CHECK(verify_jws_signature(pub.get(), input, signature));
        CHECK_FALSE(verify_jws_signature(pub.get(), input + "x", signature));
    }
}

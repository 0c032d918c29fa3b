#include "core/crypto/private_key.hpp"

#include <doctest/doctest.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/errc.hpp"

using namespace certfleet::core;

namespace {

std::string pem_of(EVP_PKEY* key, bool traditional)
{
    const bio_ptr bio{BIO_new(BIO_s_mem())};
    const int ok =
        traditional
            ? PEM_write_bio_PrivateKey_traditional(
                  bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr
              )
            : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    REQUIRE(ok == 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

std::string read_fixture(const std::string& name)
{
    std::ifstream in(std::string{CERTFLEET_TEST_DATA} + "/crypto/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("key types have stable names")
    {
        for (const auto t :
             {key_type::ec_p256, key_type::ec_p384, key_type::rsa_2048, key_type::rsa_3072,
              key_type::rsa_4096}) {
            CHECK(key_type_from_string(to_string(t)) == t);
        }
        CHECK(to_string(key_type::ec_p256) == "ec-p256");
        CHECK(to_string(key_type::rsa_4096) == "rsa-4096");
        CHECK_FALSE(key_type_from_string("EC-P256").has_value());
        CHECK_FALSE(key_type_from_string("rsa-1024").has_value());
    }

    TEST_CASE("generated keys have the requested type and survive PKCS#8 PEM (RFC 5958)")
    {
        for (const auto t : {key_type::ec_p256, key_type::ec_p384, key_type::rsa_2048}) {
            CAPTURE(to_string(t));
            const auto key = private_key::generate(t).value();
            CHECK(key.type() == t);
            CHECK(key_type_of(key.get()) == t);
            const auto pem = key.to_pem();
            CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
            const auto back = private_key::from_pem(pem).value();
            CHECK(back.type() == t);
            CHECK(back.public_key_der() == key.public_key_der());
            CHECK(EVP_PKEY_eq(back.get(), key.get()) == 1);
        }
    }

    TEST_CASE("traditional EC and RSA PEM keys are read")
    {
        for (const auto t : {key_type::ec_p256, key_type::rsa_2048}) {
            const auto key = private_key::generate(t).value();
            const auto pem = pem_of(key.get(), true);
            CHECK(
                pem.find(
                    t == key_type::ec_p256 ? "BEGIN EC PRIVATE KEY" : "BEGIN RSA PRIVATE KEY"
                ) != std::string::npos
            );
            CHECK(private_key::from_pem(pem).value().public_key_der() == key.public_key_der());
        }
        // openssl genpkey output (the certificate fixtures' key), with text around it.
        const auto fixture = private_key::from_pem("comment\n" + read_fixture("leaf.key") + "\n");
        CHECK(fixture.value().type() == key_type::ec_p256);
    }

    TEST_CASE("the public key is a SubjectPublicKeyInfo (RFC 5280 4.1.2.7)")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        const auto der = key.public_key_der();
        const auto* p = reinterpret_cast<const unsigned char*>(der.data());
        const pkey_ptr pub{d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()))};
        REQUIRE(pub);
        CHECK(EVP_PKEY_eq(pub.get(), key.get()) == 1);
        CHECK(key_type_of(pub.get()) == key_type::ec_p256);
    }

    TEST_CASE("encrypted keys are refused without prompting for a passphrase")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        const bio_ptr bio{BIO_new(BIO_s_mem())};
        REQUIRE(
            PEM_write_bio_PKCS8PrivateKey(
                bio.get(), key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                const_cast<char*>("passphrase")
            ) == 1
        );
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        const std::string pem{data, static_cast<std::size_t>(size)};
        REQUIRE(pem.find("ENCRYPTED PRIVATE KEY") != std::string::npos);
        CHECK(private_key::from_pem(pem).error() == errc::invalid_key);
    }

    TEST_CASE("garbage, public keys and unsupported algorithms are refused")
    {
        CHECK(private_key::from_pem("").error() == errc::invalid_key);
        CHECK(private_key::from_pem("not a key").error() == errc::invalid_key);
        CHECK(
            private_key::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .error() == errc::invalid_key
        );
        CHECK(private_key::from_pem(read_fixture("leaf.pem")).error() == errc::invalid_key);
        CHECK(
            private_key::from_pem(std::string(2 * 1024 * 1024, 'A')).error() ==
            errc::invalid_argument
        );

        const pkey_ptr ed25519{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")};
        const pkey_ptr p521{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521")};
        const pkey_ptr rsa1024{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024})};
        for (EVP_PKEY* k : {ed25519.get(), p521.get(), rsa1024.get()}) {
            REQUIRE(k != nullptr);
            CHECK_FALSE(key_type_of(k).has_value());
            CHECK(private_key::from_pem(pem_of(k, false)).error() == errc::unsupported_key);
        }
    }

    TEST_CASE("a key whose public half is not its private half's is refused")
    {
        const auto a = private_key::generate(key_type::ec_p256).value();
        const auto b = private_key::generate(key_type::ec_p256).value();
        BIGNUM* priv = nullptr;
        REQUIRE(EVP_PKEY_get_bn_param(a.get(), OSSL_PKEY_PARAM_PRIV_KEY, &priv) == 1);
        const bignum_ptr priv_owner{priv};
        unsigned char pub[65];
        std::size_t pub_size = 0;
        REQUIRE(
            EVP_PKEY_get_octet_string_param(
                b.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &pub_size
            ) == 1
        );
        OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_size);
        OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
        const pkey_ctx_ptr ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
        EVP_PKEY* raw = nullptr;
        REQUIRE(EVP_PKEY_fromdata_init(ctx.get()) == 1);
        REQUIRE(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params) == 1);
        const pkey_ptr mixed{raw};
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        CHECK(private_key::from_pem(pem_of(mixed.get(), true)).error() == errc::invalid_key);
    }
}

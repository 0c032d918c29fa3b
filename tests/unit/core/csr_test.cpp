#include "core/crypto/csr.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/errc.hpp"

using namespace certfleet::core;

namespace {

x509_req_ptr parse_request(const std::string& der)
{
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()))};
    REQUIRE(req);
    CHECK(p == reinterpret_cast<const unsigned char*>(der.data()) + der.size());
    return req;
}

std::vector<std::string> san_dns_names(X509_REQ* req)
{
    const x509_extensions_ptr extensions{X509_REQ_get_extensions(req)};
    REQUIRE(extensions);
    int critical = 0;
    const general_names_ptr names{static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(extensions.get(), NID_subject_alt_name, &critical, nullptr)
    )};
    REQUIRE(names);
    std::vector<std::string> out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        int type = 0;
        const auto* value = static_cast<const ASN1_STRING*>(
            GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), i), &type)
        );
        REQUIRE(type == GEN_DNS);
        out.emplace_back(
            reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
            static_cast<std::size_t>(ASN1_STRING_length(value))
        );
    }
    return out;
}

std::string subject_cn(X509_REQ* req)
{
    char buf[256] = {};
    const int n =
        X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, buf, sizeof buf);
    return n < 0 ? std::string{} : std::string{buf, static_cast<std::size_t>(n)};
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("a CSR carries every name, wildcards included, and verifies (RFC 8555 7.4, RFC 2986)")
    {
        struct row
        {
            key_type type;
            int signature_nid;
        };
        const std::vector<std::string> names = {"example.com", "*.example.com", "www.example.com"};
        for (const row r :
             {row{key_type::ec_p256, NID_ecdsa_with_SHA256},
              row{key_type::ec_p384, NID_ecdsa_with_SHA384},
              row{key_type::rsa_2048, NID_sha256WithRSAEncryption}}) {
            CAPTURE(to_string(r.type));
            const auto key = private_key::generate(r.type).value();
            const auto req = parse_request(make_csr_der(key, names).value());
            CHECK(X509_REQ_get_version(req.get()) == 0);
            CHECK(subject_cn(req.get()) == "example.com");
            CHECK(san_dns_names(req.get()) == names);
            EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
            REQUIRE(pub != nullptr);
            CHECK(EVP_PKEY_eq(pub, key.get()) == 1);
            // The key's own SubjectPublicKeyInfo, byte for byte.
            unsigned char* spki = nullptr;
            const int spki_size = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req.get()), &spki);
            REQUIRE(spki_size > 0);
            const std::string encoded(
                reinterpret_cast<const char*>(spki), static_cast<std::size_t>(spki_size)
            );
            OPENSSL_free(spki);
            CHECK(encoded == key.public_key_der());
            CHECK(X509_REQ_verify(req.get(), pub) == 1);
            CHECK(X509_REQ_get_signature_nid(req.get()) == r.signature_nid);
        }
    }

    TEST_CASE("a first name longer than 64 characters leaves the subject empty (RFC 5280 A.1)")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        const std::string long_name = std::string(60, 'a') + ".example.com";
        const std::string exact_name = std::string(52, 'b') + ".example.com"; // 64 characters
        const auto req = parse_request(make_csr_der(key, {long_name, "example.com"}).value());
        CHECK(X509_NAME_entry_count(X509_REQ_get_subject_name(req.get())) == 0);
        CHECK(san_dns_names(req.get()) == std::vector<std::string>{long_name, "example.com"});
        const auto req64 = parse_request(make_csr_der(key, {exact_name}).value());
        CHECK(subject_cn(req64.get()) == exact_name);
    }

    TEST_CASE("a CSR refuses an empty list and names that are not DNS names")
    {
        const auto key = private_key::generate(key_type::ec_p256).value();
        CHECK(make_csr_der(key, {}).error() == errc::invalid_argument);
        CHECK(make_csr_der(key, {""}).error() == errc::invalid_argument);
        CHECK(make_csr_der(key, {"example.com", "bad name"}).error() == errc::invalid_argument);
        CHECK(make_csr_der(key, {std::string("a\0b.com", 7)}).error() == errc::invalid_argument);
        CHECK(make_csr_der(key, {"ex\xc3\xa4mple.com"}).error() == errc::invalid_argument);
        CHECK(make_csr_der(key, {std::string(254, 'a')}).error() == errc::invalid_argument);
    }
}

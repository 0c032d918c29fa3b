#include "core/crypto/certificate.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/encoding.hpp"
#include "core/errc.hpp"

using namespace certfleet::core;
using namespace std::chrono;
using namespace std::string_literals;

namespace {

std::string fixture(const std::string& name)
{
    std::ifstream in(std::string{CERTFLEET_TEST_DATA} + "/crypto/" + name, std::ios::binary);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Computed with `openssl x509 -noout -fingerprint -sha256|-sha1` when the fixtures were made
// (tests/data/crypto/generate.sh).
constexpr std::string_view leaf_sha256 = "B5:CF:8B:2D:18:BF:4E:8C:C6:94:DB:0F:CC:66:0A:4C:50:14:22:"
                                         "B2:D1:F3:78:14:17:FA:7F:EB:F5:AB:A6:16";
constexpr std::string_view leaf_sha1 =
    "11:B7:57:18:04:A8:C2:AE:24:2F:F1:D5:70:20:8F:3A:31:B7:5A:4B";
constexpr std::string_view ca_sha256 = "69:FD:A4:C6:BA:52:B6:5A:B8:B3:4B:2E:FA:EF:3A:80:BF:16:DD:"
                                       "0D:E1:81:98:27:01:7F:46:98:EE:72:71:BD";

std::string openssl_fingerprint(std::string_view raw)
{
    std::string out;
    for (const char c : to_hex(raw)) {
        if (!out.empty() && out.size() % 3 == 2) {
            out += ':';
        }
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

// RFC 9773 section 4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content).
std::string ari_cert_id(const certificate_info& cert)
{
    return base64url_encode(cert.authority_key_id.value()) + "." + base64url_encode(cert.serial);
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("a leaf certificate's fields are read exactly (RFC 5280 4.1)")
    {
        const auto chain = parse_pem_chain(fixture("leaf.pem")).value();
        REQUIRE(chain.size() == 1);
        const auto& leaf = chain[0];
        // 0x8badf00d5eed has its high bit set: DER prepends 00 (X.690 8.3.2).
        CHECK(leaf.serial == "\x00\x8b\xad\xf0\x0d\x5e\xed"s);
        CHECK(to_hex(leaf.authority_key_id.value()) == "ed84c245ab23918f123a1d3cb4e22d39c7d07707");
        CHECK(
            leaf.dns_names ==
            std::vector<std::string>{"www.example.com", "*.example.com", "example.com"}
        );
        CHECK(leaf.subject_cn == "www.example.com");
        CHECK(leaf.issuer_cn == "certfleet Test CA");
        CHECK(leaf.issuer_dn == "O=certfleet tests,CN=certfleet Test CA");
        // UTCTime and GeneralizedTime (RFC 5280 4.1.2.5).
        CHECK(leaf.not_before == sys_days{2025y / January / 1});
        CHECK(leaf.not_after == sys_days{2050y / June / 1} + 12h);
        CHECK(openssl_fingerprint(leaf.sha256_fingerprint) == leaf_sha256);
        CHECK(openssl_fingerprint(leaf.sha1_fingerprint) == leaf_sha1);
    }

    TEST_CASE("a chain is read leaf first and the DER form parses the same")
    {
        const auto chain = parse_pem_chain(fixture("chain.pem")).value();
        REQUIRE(chain.size() == 2);
        CHECK(chain[0].subject_cn == "www.example.com");
        CHECK(chain[1].subject_cn == "certfleet Test CA");
        CHECK(chain[1].serial == "\x01"s);
        CHECK_FALSE(chain[1].authority_key_id.has_value());
        CHECK(chain[1].dns_names.empty());
        CHECK(openssl_fingerprint(chain[1].sha256_fingerprint) == ca_sha256);

        const auto again = parse_der_certificate(chain[0].der).value();
        CHECK(again.der == chain[0].der);
        CHECK(again.serial == chain[0].serial);
        CHECK(again.sha256_fingerprint == chain[0].sha256_fingerprint);
        CHECK(again.dns_names == chain[0].dns_names);

        // Explanatory text around blocks is allowed (RFC 7468 section 2).
        const auto annotated =
            parse_pem_chain("leaf:\n" + fixture("leaf.pem") + "\nroot:\n" + fixture("ca.pem"));
        CHECK(annotated.value().size() == 2);
    }

    TEST_CASE("an issuer certificate seen before is described as when it was first read")
    {
        // The issuers after the leaf are remembered between parses: a second chain with the same
        // issuer, and one whose second certificate is another, each read their own.
        const auto first = parse_pem_chain(fixture("chain.pem")).value();
        const auto reversed = parse_pem_chain(fixture("ca.pem") + fixture("leaf.pem")).value();
        const auto again = parse_pem_chain(fixture("chain.pem")).value();
        REQUIRE(first.size() == 2);
        REQUIRE(reversed.size() == 2);
        REQUIRE(again.size() == 2);
        CHECK(reversed[1].subject_cn == "www.example.com");
        CHECK(reversed[1].serial == first[0].serial);
        CHECK(reversed[1].dns_names == first[0].dns_names);
        CHECK(reversed[0].subject_cn == "certfleet Test CA");
        for (const auto* issuer : {&first[1], &again[1]}) {
            CHECK(issuer->der == first[1].der);
            CHECK(issuer->subject_cn == "certfleet Test CA");
            CHECK(issuer->serial == "\x01"s);
            CHECK(issuer->issuer_dn == first[1].issuer_dn);
            CHECK(issuer->public_key_der == first[1].public_key_der);
            CHECK(openssl_fingerprint(issuer->sha256_fingerprint) == ca_sha256);
        }
    }

    TEST_CASE("a certificate matches its own key only")
    {
        const auto leaf = parse_pem_chain(fixture("leaf.pem")).value().at(0);
        CHECK(certificate_matches_key(leaf, private_key::from_pem(fixture("leaf.key")).value()));
        CHECK_FALSE(certificate_matches_key(leaf, private_key::from_pem(fixture("ca.key")).value())
        );
        CHECK_FALSE(certificate_matches_key(leaf, private_key::generate(key_type::rsa_2048).value())
        );
    }

    TEST_CASE("a certificate whose CA sent our key's point compressed still matches that key")
    {
        const auto key = private_key::from_pem(fixture("leaf.key")).value();
        const auto leaf = parse_pem_chain(fixture("leaf.pem")).value().at(0);
        const auto compressed = parse_pem_chain(fixture("leaf-compressed.pem")).value().at(0);
        CHECK(leaf.public_key_der == key.public_key_der());
        CHECK(compressed.public_key_der.size() < key.public_key_der().size()); // 33-byte point
        CHECK(certificate_matches_key(compressed, key));
        CHECK_FALSE(
            certificate_matches_key(compressed, private_key::from_pem(fixture("ca.key")).value())
        );
    }

    TEST_CASE("the RFC 9773 section 4.1 example gives the expected ARI certID")
    {
        const auto cert = parse_pem_chain(fixture("rfc9773-example.pem")).value().at(0);
        CHECK(cert.serial == "\x00\x87\x65\x43\x21"s);
        CHECK(ari_cert_id(cert) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        CHECK(cert.subject_cn == "example.com");
        CHECK(cert.issuer_cn == "Example CA");
        // Its validity is 0001-01-01, before what system_clock can represent: clamped.
        CHECK(cert.not_before == system_clock::time_point::min());
        CHECK(cert.not_after == system_clock::time_point::min());
    }

    TEST_CASE("garbage, empty input and foreign PEM blocks are refused")
    {
        const auto leaf_pem = fixture("leaf.pem");
        const auto der = parse_pem_chain(leaf_pem).value().at(0).der;
        const std::string bad[] = {
            "",
            "garbage",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            leaf_pem.substr(0, leaf_pem.size() / 2), // no END line
            leaf_pem + fixture("leaf.key"),          // a key in a chain
            "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        };
        for (const auto& pem : bad) {
            CAPTURE(pem);
            CHECK(parse_pem_chain(pem).error() == errc::invalid_certificate);
        }
        CHECK(parse_der_certificate("").error() == errc::invalid_certificate);
        CHECK(parse_der_certificate("garbage").error() == errc::invalid_certificate);
        CHECK(
            parse_der_certificate(der.substr(0, der.size() - 1)).error() ==
            errc::invalid_certificate
        );
        CHECK(parse_der_certificate(der + '\0').error() == errc::invalid_certificate);
    }

    TEST_CASE("a chain holds at most 16 certificates")
    {
        const auto leaf_pem = fixture("leaf.pem");
        std::string pem;
        for (std::size_t i = 0; i < max_chain_length; ++i) {
            pem += leaf_pem;
        }
        CHECK(parse_pem_chain(pem).value().size() == max_chain_length);
        CHECK(parse_pem_chain(pem + leaf_pem).error() == errc::too_many_certificates);
    }
}

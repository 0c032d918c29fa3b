#include "deploy/bundle_fields.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/crypto/encoding.hpp"

using namespace certfleet;
using namespace certfleet::deploy::detail;
using namespace std::chrono;

namespace {

std::string block(std::string_view label, std::string_view der)
{
    const auto b64 = core::base64_encode(der);
    std::string out = "-----BEGIN " + std::string{label} + "-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 64) {
        out.append(b64.substr(i, 64)).append("\n");
    }
    return out + "-----END " + std::string{label} + "-----\n";
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("RFC 3339 UTC times round-trip to the second and parse strictly")
    {
        const auto t = sys_days{2024y / February / 29} + 23h + 59min + 59s;
        CHECK(format_utc(t) == "2024-02-29T23:59:59Z");
        CHECK(format_utc(t + 999ms) == "2024-02-29T23:59:59Z"); // floored
        CHECK(parse_utc("2024-02-29T23:59:59Z").value() == t);
        CHECK(parse_utc("1970-01-01T00:00:00Z").value() == system_clock::time_point{});
        for (const char* bad :
             {"2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
              "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z", "1969-12-31T23:59:59Z",
              "2026-01-01t00:00:00Z", "2026-01-01T00:00:00z", "2026-01-01T00:00:00+00:00",
              "2026-01-01T00:00:00.5Z", "2026-1-01T00:00:00Z", "", "2026-01-01T00:00:0aZ"}) {
            CAPTURE(bad);
            CHECK_FALSE(parse_utc(bad).has_value());
        }
    }

    TEST_CASE("PEM certificates come out as DER in order and other blocks are refused")
    {
        const std::string a = "\x30\x03\x02\x01\x01";
        const std::string b = "\x30\x03\x02\x01\x02";
        const auto two = pem_certificates(
            "junk\n" + block("CERTIFICATE", a) + "between\n" + block("CERTIFICATE", b)
        );
        REQUIRE(two.has_value());
        CHECK(*two == std::vector<std::string>{a, b});
        // CRLF line ends are whitespace like LF.
        auto crlf = block("CERTIFICATE", a);
        for (std::size_t at = crlf.find('\n'); at != std::string::npos;
             at = crlf.find('\n', at + 2)) {
            crlf.insert(at, "\r");
        }
        CHECK(pem_certificates(crlf).value() == std::vector<std::string>{a});
        CHECK_FALSE(pem_certificates("").has_value());
        CHECK_FALSE(pem_certificates(block("PRIVATE KEY", a)).has_value());
        CHECK_FALSE(pem_certificates(block("CERTIFICATE", a) + block("PRIVATE KEY", a)).has_value()
        );
        const auto whole = block("CERTIFICATE", a);
        CHECK_FALSE(pem_certificates(whole.substr(0, whole.size() - 10)).has_value());
        CHECK_FALSE(pem_certificates("-----BEGIN CERTIFICATE-----\n*\n-----END CERTIFICATE-----\n")
                        .has_value());
        CHECK_FALSE(
            pem_certificates("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n").has_value()
        );
        std::string many;
        for (int i = 0; i < 16; ++i) {
            many += block("CERTIFICATE", a);
        }
        CHECK(pem_certificates(many).value().size() == 16);
        CHECK_FALSE(pem_certificates(many + block("CERTIFICATE", a)).has_value());
    }

    TEST_CASE("JSON members are read only with their exact type")
    {
        const auto doc =
            nlohmann::json::parse(R"({"s":"x","i":-3,"u":18446744073709551615,"f":1.0,"b":true})");
        CHECK(string_member(doc, "s").value() == "x");
        CHECK_FALSE(string_member(doc, "i").has_value());
        CHECK(integer_member(doc, "i").value() == -3);
        CHECK_FALSE(integer_member(doc, "u").has_value());
        CHECK_FALSE(integer_member(doc, "f").has_value());
        CHECK_FALSE(integer_member(doc, "b").has_value());
        CHECK_FALSE(integer_member(doc, "missing").has_value());
        CHECK(is_lower_hex("00ff", 4));
        CHECK_FALSE(is_lower_hex("00FF", 4));
        CHECK_FALSE(is_lower_hex("00f", 4));
        CHECK_FALSE(is_lower_hex(""));
    }
}

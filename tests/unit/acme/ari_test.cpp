#include "acme/ari.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "acme/errc.hpp"
#include "unit/acme/test_data.hpp"

using namespace certfleet::acme;
using namespace std::chrono;
using certfleet::acme::test::read_data;

namespace {

system_clock::time_point utc(year_month_day date, hours h, minutes m = {}, seconds s = {})
{
    return sys_days{date} + h + m + s;
}

std::string window_body(std::string_view start, std::string_view end)
{
    return nlohmann::json{{"suggestedWindow", {{"start", start}, {"end", end}}}}.dump();
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("ari: the certificate identifier of RFC 9773 4.1")
    {
        SUBCASE("from the example's raw AKI keyIdentifier and serial")
        {
            const std::string aki = "\x69\x88\x5B\x6B\x87\x46\x40\x41\xE1\xB3"
                                    "\x7B\x84\x7B\xA0\xAE\x2C\xDE\x01\xC8\xD4";
            // DER INTEGER 0x87654321 has its high bit set: the content starts with 0x00.
            const std::string serial("\x00\x87\x65\x43\x21", 5);
            CHECK(ari_cert_id(aki, serial) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        }
        SUBCASE("from the RFC 9773 Appendix A certificate")
        {
            const auto id = ari_cert_id_from_pem(read_data("rfc9773_appendix_a_certificate.pem"));
            REQUIRE(id.has_value());
            CHECK(*id == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        }
        SUBCASE("from the first certificate of a chain; serial without a leading zero")
        {
            const auto id = ari_cert_id_from_pem(read_data("ari_leaf_chain.pem"));
            REQUIRE(id.has_value());
            // AKI 93:23:07:77:...:1F (the base64url alphabet shows in its "_"), serial 0x7f0102.
            CHECK(*id == "kyMHd4S16cRnrE0_ZNFk78cylR8.fwEC");
        }
        SUBCASE("base64url without padding, every length")
        {
            CHECK(ari_cert_id("\xfb", "\xff\xfe") == "-w.__4");
            CHECK(ari_cert_id("abc", "abcd") == "YWJj.YWJjZA");
            CHECK(ari_cert_id("", "") == ".");
        }
    }

    TEST_CASE("ari: certificates that have no identifier")
    {
        auto id = ari_cert_id_from_pem(read_data("ari_leaf_without_aki.pem"));
        REQUIRE_FALSE(id.has_value());
        CHECK(id.error() == errc::missing_field);
        for (const char* pem :
             {"", "not a certificate",
              "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}) {
            CAPTURE(pem);
            id = ari_cert_id_from_pem(pem);
            REQUIRE_FALSE(id.has_value());
            CHECK(id.error() == errc::malformed_response);
        }
        id = ari_cert_id_from_pem(std::string(2 * 1024 * 1024, 'A'));
        REQUIRE_FALSE(id.has_value());
        CHECK(id.error() == errc::value_too_large);
    }

    TEST_CASE("ari: the RFC 9773 4.2 renewalInfo example is read")
    {
        const auto w = parse_renewal_info(read_data("rfc9773_4.2_renewal_info.json"));
        REQUIRE(w.has_value());
        CHECK(w->start == utc(2025y / 1 / 2, 4h));
        CHECK(w->end == utc(2025y / 1 / 3, 4h));
        CHECK(w->explanation_url == "https://acme.example.com/docs/ari");
    }

    TEST_CASE("ari: RFC 3339 5.6 timestamps")
    {
        struct row
        {
            const char* text;
            system_clock::time_point expected;
        };
        const auto base = utc(2025y / 1 / 2, 4h);
        const row rows[] = {
            {"2025-01-02T04:00:00Z", base},
            {"2025-01-02t04:00:00z", base},
            {"2025-01-02 04:00:00Z", base},
            {"2025-01-02T04:00:00.5Z", base + 500ms},
            {"2025-01-02T04:00:00.123456789Z", base + 123456789ns},
            {"2025-01-02T04:00:00.1234567891234Z", base + 123456789ns},
            {"2025-01-02T06:30:00+02:30", base},
            {"2025-01-01T23:00:00-05:00", base},
            {"2025-01-02T04:00:00+00:00", base},
            {"2025-01-02T04:00:00-00:00", base},
            {"2024-02-29T00:00:00Z", utc(2024y / 2 / 29, 0h)},
            {"2016-12-31T23:59:60Z", utc(2017y / 1 / 1, 0h)}, // leap second
            {"1970-01-01T00:00:00Z", system_clock::time_point{}},
        };
        for (const auto& r : rows) {
            CAPTURE(r.text);
            const auto t = parse_rfc3339(r.text);
            REQUIRE(t);
            CHECK(*t == r.expected);
        }
        for (const char* bad : {
                 "",
                 "2025-01-02",
                 "2025-01-02T04:00:00",
                 "2025-01-02T04:00Z",
                 "2025-01-02T04:00:00.Z",
                 "2025-01-02T04:00:00ZZ",
                 "2025-01-02T04:00:00+0200",
                 "2025-01-02T04:00:00+2:00",
                 "2025-01-02T04:00:00 Z",
                 "2025-13-02T04:00:00Z",
                 "2025-00-02T04:00:00Z",
                 "2025-02-29T04:00:00Z",
                 "2025-04-31T04:00:00Z",
                 "2025-01-02T24:00:00Z",
                 "2025-01-02T04:60:00Z",
                 "2025-01-02T04:00:61Z",
                 "2025-01-02T04:00:00+24:00",
                 "2025-01-02T04:00:00+01:60",
                 "1969-12-31T23:59:59Z",
                 "2201-01-01T00:00:00Z",
                 "9999-12-31T23:59:59Z",
                 "+2025-01-02T04:00:00Z",
                 "2025-1-2T4:00:00Z",
                 "２025-01-02T04:00:00Z",
                 " 2025-01-02T04:00:00Z",
                 "2025-01-02T04:00:00.000000000000000000000000000000000000000000000000000000001Z",
             }) {
            CAPTURE(bad);
            CHECK_FALSE(parse_rfc3339(bad));
        }
    }

    TEST_CASE("ari: invalid renewal windows are rejected")
    {
        struct row
        {
            std::string body;
            errc expected;
        };
        const row rows[] = {
            {window_body("2025-01-03T04:00:00Z", "2025-01-02T04:00:00Z"), errc::malformed_response},
            {window_body("2025-01-02T04:00:00Z", "2025-01-02T04:00:00Z"), errc::malformed_response},
            {window_body("2025-01-02T06:00:00+02:00", "2025-01-02T04:00:00Z"),
             errc::malformed_response}, // equal instants
            {window_body("yesterday", "2025-01-02T04:00:00Z"), errc::malformed_response},
            {window_body("2025-01-02T04:00:00Z", ""), errc::malformed_response},
            {R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z"}})", errc::missing_field},
            {R"({"suggestedWindow":{"end":"2025-01-02T04:00:00Z"}})", errc::missing_field},
            {R"({"suggestedWindow":{"start":1735790400,"end":1735876800}})",
             errc::malformed_response},
            {R"({"suggestedWindow":["2025-01-02T04:00:00Z","2025-01-03T04:00:00Z"]})",
             errc::malformed_response},
            {R"({"explanationURL":"https://acme.example.com/docs/ari"})", errc::missing_field},
            {R"([])", errc::malformed_response},
            {"Retry later", errc::malformed_response},
            {certfleet::acme::test::deep_array(10000), errc::value_too_large},
        };
        for (const auto& r : rows) {
            CAPTURE(r.body);
            const auto w = parse_renewal_info(r.body);
            REQUIRE_FALSE(w.has_value());
            CHECK(w.error() == r.expected);
        }
    }

    TEST_CASE("ari: a bad explanationURL is dropped and the window kept")
    {
        auto body = nlohmann::json::parse(read_data("rfc9773_4.2_renewal_info.json"));
        for (const nlohmann::json& bad :
             {nlohmann::json("javascript:alert(1)"), nlohmann::json(7)}) {
            body["explanationURL"] = bad;
            const auto w = parse_renewal_info(body.dump());
            REQUIRE(w.has_value());
            CHECK_FALSE(w->explanation_url);
            CHECK(w->start == utc(2025y / 1 / 2, 4h));
        }
    }

    TEST_CASE("ari: the renewal time is a point of the window chosen by the caller's number")
    {
        const renewal_window w{utc(2025y / 1 / 2, 4h), utc(2025y / 1 / 3, 4h), std::nullopt};
        CHECK(pick_renewal_time(w, 0.0) == w.start);
        CHECK(pick_renewal_time(w, 0.5) == utc(2025y / 1 / 2, 16h));
        CHECK(pick_renewal_time(w, 0.25) == utc(2025y / 1 / 2, 10h));
        CHECK(pick_renewal_time(w, 0.999999999999) < w.end);
        CHECK(pick_renewal_time(w, 1.0) == w.end - system_clock::duration{1});
        CHECK(pick_renewal_time(w, 7.0) == w.end - system_clock::duration{1});
        CHECK(pick_renewal_time(w, -3.0) == w.start);
        CHECK(pick_renewal_time(w, std::nan("")) == w.start);
        CHECK(pick_renewal_time(w, std::numeric_limits<double>::infinity()) < w.end);

        const renewal_window backwards{w.end, w.start, std::nullopt};
        CHECK(pick_renewal_time(backwards, 0.5) == w.end);
        const renewal_window empty{w.start, w.start, std::nullopt};
        CHECK(pick_renewal_time(empty, 0.5) == w.start);

        // The whole range of the clock: no overflow.
        const renewal_window huge{
            system_clock::time_point::min(), system_clock::time_point::max(), std::nullopt};
        CHECK(pick_renewal_time(huge, 0.0) == huge.start);
        CHECK(pick_renewal_time(huge, 1.0) < huge.end);
        const auto middle = pick_renewal_time(huge, 0.5);
        CHECK(abs(middle.time_since_epoch()) < hours{24 * 365});
    }
}

#include "acme/http_headers.hpp"

#include <doctest/doctest.h>

using namespace certfleet::acme;
using namespace std::chrono;

namespace {

// RFC 9110 5.6.7's example instant: Sun, 06 Nov 1994 08:49:37 GMT.
const system_clock::time_point example_date = sys_days{1994y / 11 / 6} + 8h + 49min + 37s;

std::vector<link> links(std::initializer_list<std::string_view> values)
{
    return parse_link_headers(std::vector<std::string_view>(values));
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("Retry-After: delta-seconds (RFC 9110 10.2.3, RFC 8555 6.6)")
    {
        const auto now = example_date;
        struct row
        {
            const char* value;
            seconds expected;
        };
        const row rows[] = {
            {"120", 120s},
            {"0", 0s},
            {"007", 7s},
            {" 30\t", 30s},
            {"86400", 86400s},
            {"86401", 24h},                   // capped at a day
            {"99999999999999999999999", 24h}, // no overflow
            {"-5", 0s},                       // negative: now
            {"-99999999999999999999999", 0s},
        };
        for (const auto& r : rows) {
            CAPTURE(r.value);
            CHECK(parse_retry_after(r.value, now) == r.expected);
        }
    }

    TEST_CASE("Retry-After: HTTP-date relative to now (RFC 9110 5.6.7)")
    {
        struct row
        {
            const char* value;
            system_clock::time_point now;
            seconds expected;
        };
        const row rows[] = {
            {"Sun, 06 Nov 1994 08:49:37 GMT", example_date - 60s, 60s},   // IMF-fixdate
            {"Sunday, 06-Nov-94 08:49:37 GMT", example_date - 60s, 60s},  // RFC 850
            {"Sun Nov  6 08:49:37 1994", example_date - 60s, 60s},        // asctime
            {"Wed, 16 Nov 1994 08:49:37 GMT", example_date, 24h},         // capped
            {"Sun, 06 Nov 1994 08:49:37 GMT", example_date, 0s},          // now
            {"Sun, 06 Nov 1994 08:49:37 GMT", example_date + 1h, 0s},     // past
            {"Sun, 06 Nov 1994 08:49:37 GMT", example_date - 500ms, 1s},  // rounded up
            {"Sun, 06 Nov 1994 08:49:37 GMT", example_date - 1500ms, 2s}, // rounded up
            {"Mon, 01 Jan 1990 00:00:00 GMT", example_date, 0s},
            {"Fri, 31 Dec 9999 23:59:59 GMT", example_date, 24h},               // far future
            {"Thursday, 01-Jan-70 00:00:10 GMT", sys_days{1970y / 1 / 1}, 10s}, // 2-digit year
        };
        for (const auto& r : rows) {
            CAPTURE(r.value);
            CHECK(parse_retry_after(r.value, r.now) == r.expected);
        }
        // RFC 850 years more than 50 years ahead are in the previous century.
        const auto in_2030 = sys_days{2030y / 1 / 1} + 0s;
        CHECK(parse_retry_after("Friday, 01-Jan-30 00:01:00 GMT", in_2030) == 60s);
        CHECK(parse_retry_after("Thursday, 01-Jan-81 00:00:00 GMT", in_2030) == 0s); // 1981
        CHECK(parse_retry_after("Tuesday, 01-Jan-80 00:00:00 GMT", in_2030) == 24h); // 2080
    }

    TEST_CASE("Retry-After: garbage is not a delay")
    {
        for (const char* value : {
                 "",
                 " ",
                 "soon",
                 "12abc",
                 "1.5",
                 "+5",
                 "-",
                 "0x10",
                 "1 2",
                 "Sun, 06 Nov 1994 08:49:37 UTC",
                 "Sun, 06 Nov 1994 08:49:37 gmt",
                 "Sun, 6 Nov 1994 08:49:37 GMT",
                 "Sun, 06 Nov 94 08:49:37 GMT",
                 "Sun,06 Nov 1994 08:49:37 GMT",
                 "Xyz, 06 Nov 1994 08:49:37 GMT",
                 "Sun, 06 Foo 1994 08:49:37 GMT",
                 "Sun, 31 Feb 1994 08:49:37 GMT",
                 "Sun, 06 Nov 1994 24:49:37 GMT",
                 "Sun, 06 Nov 1994 08:60:37 GMT",
                 "Sun, 06 Nov 1994 08:49:37 GMT trailing",
                 "Sun, 06 Nov 1994 08:49 GMT",
                 "Sunday, 06-Nov-1994 08:49:37 GMT",
                 "Sun Nov 6 08:49:37 1994",
                 "2025-01-02T04:00:00Z",
             }) {
            CAPTURE(value);
            CHECK_FALSE(parse_retry_after(value, example_date));
        }
    }

    TEST_CASE("Link: RFC 8288 forms and the RFC 8555 7.4.2 alternate chains")
    {
        SUBCASE("one link per header, as in RFC 8555 7.4.2")
        {
            const auto l = links({
                R"(<https://example.com/acme/directory>;rel="index")",
                R"(<https://example.com/acme/cert/mAt3xBGaobw/1>;rel="alternate")",
            });
            CHECK(
                l ==
                std::vector<link>{
                    {"https://example.com/acme/directory", "index"},
                    {"https://example.com/acme/cert/mAt3xBGaobw/1", "alternate"},
                }
            );
        }
        SUBCASE("several links in one header, rel with or without quotes, spaces around")
        {
            const auto l = links({
                R"(<https://ca.example/alt/1>; rel=alternate, <https://ca.example/alt/2> ; rel = "alternate" ,<https://ca.example/dir>;rel=index)",
            });
            CHECK(
                l ==
                std::vector<link>{
                    {"https://ca.example/alt/1", "alternate"},
                    {"https://ca.example/alt/2", "alternate"},
                    {"https://ca.example/dir", "index"},
                }
            );
        }
        SUBCASE("several relation types in one rel (RFC 8288 3.3), case folded")
        {
            const auto l = links({R"(<https://ca.example/x>; rel="Alternate  INDEX")"});
            CHECK(
                l ==
                std::vector<link>{
                    {"https://ca.example/x", "alternate"},
                    {"https://ca.example/x", "index"},
                }
            );
            const auto ext = links({R"(<https://ca.example/x>; rel="https://ca.example/Rel")"});
            CHECK(ext == std::vector<link>{{"https://ca.example/x", "https://ca.example/Rel"}});
        }
        SUBCASE("other parameters, with commas and semicolons in quoted strings")
        {
            const auto l = links({
                R"(<https://ca.example/a,b;c>; title="x, y; \"z\""; rel="up"; type=text/html, <https://ca.example/d>; REL=next)",
            });
            CHECK(
                l ==
                std::vector<link>{
                    {"https://ca.example/a,b;c", "up"},
                    {"https://ca.example/d", "next"},
                }
            );
        }
        SUBCASE("the first rel counts (RFC 8288 3.3)")
        {
            CHECK(
                links({R"(<https://ca.example/x>; rel=up; rel=alternate)"}) ==
                std::vector<link>{{"https://ca.example/x", "up"}}
            );
        }
        SUBCASE("relative URLs are returned as they are")
        {
            CHECK(
                links({R"(</acme/cert/1/alt>;rel="alternate")"}) ==
                std::vector<link>{{"/acme/cert/1/alt", "alternate"}}
            );
        }
        SUBCASE("links without rel, and malformed links, are skipped")
        {
            const auto l = links({
                R"(<https://ca.example/no-rel>; title="x")",
                R"(https://ca.example/no-brackets; rel=alternate, <https://ca.example/ok>; rel=alternate)",
                R"(<https://ca.example/unterminated; rel=alternate)",
                R"(<https://ca.example/bad-quote>; rel="alternate, <https://ca.example/hidden>; rel=up)",
                R"(<https://ca.example/junk> junk; rel=alternate, <https://ca.example/ok2>;rel=up)",
                R"(<https://ca.example/ bad>; rel=up)",
                R"(<>; rel=up)",
                R"(<https://ca.example/empty-rel>; rel="")",
                R"(<https://ca.example/noname>; =x; rel=up)",
                "",
                " , ,",
            });
            CHECK(
                l ==
                std::vector<link>{
                    {"https://ca.example/ok", "alternate"},
                    {"https://ca.example/ok2", "up"},
                }
            );
        }
        SUBCASE("at most 100 links")
        {
            std::string value;
            for (int i = 0; i < 300; ++i) {
                value += "<https://ca.example/" + std::to_string(i) + ">;rel=alternate,";
            }
            CHECK(links({value}).size() == 100);
        }
    }
}

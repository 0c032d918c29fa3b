#include "acme/problem.hpp"

#include <doctest/doctest.h>

#include "acme/errc.hpp"
#include "unit/acme/test_data.hpp"

using namespace certfleet::acme;
using certfleet::acme::test::read_data;
using namespace std::string_view_literals;

TEST_SUITE("acme")
{
    TEST_CASE("problem: the RFC 8555 6.7.1 example with subproblems is read")
    {
        const auto p = parse_problem(read_data("rfc8555_6.7.1_problem_subproblems.json"), 403);
        REQUIRE(p);
        CHECK(p->type == "urn:ietf:params:acme:error:malformed");
        CHECK(p->detail == "Some of the identifiers requested were rejected");
        CHECK(p->status == 403);
        CHECK_FALSE(p->retry_after);
        REQUIRE(p->subproblems.size() == 2);
        CHECK(p->subproblems[0].type == "urn:ietf:params:acme:error:malformed");
        CHECK(p->subproblems[0].detail == "Invalid underscore in DNS name \"_example.org\"");
        CHECK(p->subproblems[0].identifier_type == "dns");
        CHECK(p->subproblems[0].identifier_value == "_example.org");
        CHECK(p->subproblems[1].type == "urn:ietf:params:acme:error:rejectedIdentifier");
        CHECK(p->subproblems[1].identifier_value == "example.net");
        CHECK(
            p->summary() ==
            "malformed (HTTP 403): Some of the identifiers requested were rejected; "
            "_example.org: malformed: Invalid underscore in DNS name \"_example.org\"; "
            "example.net: rejectedIdentifier: This CA will not issue for \"example.net\""
        );
    }

    TEST_CASE("problem: is() matches RFC 8555 6.7 error types by their short name")
    {
        struct row
        {
            const char* type;
            const char* asked;
            bool matches;
        };
        const row rows[] = {
            {"urn:ietf:params:acme:error:badNonce", "badNonce", true},         // 6.5
            {"urn:ietf:params:acme:error:rateLimited", "rateLimited", true},   // 6.6
            {"urn:ietf:params:acme:error:malformed", "malformed", true},       // 6.7
            {"urn:ietf:params:acme:error:unauthorized", "unauthorized", true}, // 6.7
            {"urn:ietf:params:acme:error:orderNotReady", "orderNotReady", true},
            {"urn:ietf:params:acme:error:badNonce", "urn:ietf:params:acme:error:badNonce", true},
            {"urn:ietf:params:acme:error:alreadyReplaced", "alreadyReplaced", true}, // RFC 9773 7.4
            {"urn:ietf:params:acme:error:badNonce", "badnonce", false}, // case-sensitive
            {"urn:ietf:params:acme:error:badNonce", "Nonce", false},
            {"urn:ietf:params:acme:error:badNonceX", "badNonce", false},
            {"urn:ietf:params:acme:error:rateLimited", "badNonce", false},
            {"badNonce", "rateLimited", false},
            {"about:blank", "badNonce", false},
            {"urn:ietf:params:acme:error:badNonce", "", false},
            {"", "", false},
        };
        for (const auto& r : rows) {
            CAPTURE(r.type);
            CAPTURE(r.asked);
            problem p;
            p.type = r.type;
            CHECK(p.is(r.asked) == r.matches);
        }
    }

    TEST_CASE("problem: summary() is one line with the server's control characters escaped")
    {
        SUBCASE("C0 controls, DEL and escape sequences")
        {
            const auto p = parse_problem(
                R"({"type":"urn:ietf:params:acme:error:serverInternal",)"
                R"("detail":"line1\nline2\r\t\u0000\u001b[31mred\u007f"})",
                500
            );
            REQUIRE(p);
            CHECK(p->detail == "line1\nline2\r\t\0\x1b[31mred\x7f"sv);
            CHECK(
                p->summary() ==
                "serverInternal (HTTP 500): line1\\nline2\\r\\t\\x00\\x1b[31mred\\x7f"
            );
        }
        SUBCASE("C1 controls, line separators and bidirectional overrides")
        {
            const auto p = parse_problem(
                R"({"type":"urn:ietf:params:acme:error:caa","detail":"a\u009bb\u2028c\u202ed\u2066e"})",
                403
            );
            REQUIRE(p);
            CHECK(p->summary() == "caa (HTTP 403): a\\u009bb\\u2028c\\u202ed\\u2066e");
        }
        SUBCASE("ordinary UTF-8 is kept")
        {
            problem p;
            p.type = "urn:ietf:params:acme:error:dns";
            p.detail = "r\xc3\xa9solution \xe2\x9c\x93";
            CHECK(p.summary() == "dns: r\xc3\xa9solution \xe2\x9c\x93");
        }
        SUBCASE("bytes that are not UTF-8 are escaped")
        {
            problem p;
            p.type = "urn:ietf:params:acme:error:dns";
            p.detail = "a\xff\xc3(\xed\xa0\x80";
            CHECK(p.summary() == "dns: a\\xff\\xc3(\\xed\\xa0\\x80");
        }
        SUBCASE("identifiers and types of subproblems are escaped too")
        {
            problem p;
            p.type = "urn:ietf:params:acme:error:malformed";
            p.subproblems.push_back({"x\ny", "d\x1b", "dns", "evil\n.example"});
            CHECK(p.summary() == "malformed; evil\\n.example: x\\ny: d\\x1b");
        }
        SUBCASE("an empty problem still says something")
        {
            CHECK(problem{}.summary() == "about:blank");
        }
        SUBCASE("a huge problem is cut to 8 KiB")
        {
            problem p;
            p.type = "urn:ietf:params:acme:error:malformed";
            p.detail = std::string(20000, 'x');
            for (int i = 0; i < 50; ++i) {
                p.subproblems.push_back({"t", std::string(1000, 'y'), "dns", "a.example"});
            }
            const auto s = p.summary();
            CHECK(s.size() <= 8 * 1024);
            CHECK(s.ends_with("..."));
            CHECK(s.find('\n') == std::string::npos);
        }
    }

    TEST_CASE("problem: an error status with a body that is not JSON gives about:blank")
    {
        SUBCASE("HTML from a proxy, escaped and cut to 256 bytes")
        {
            std::string body = "<html>\r\n<body>502 Bad Gateway\x1b[0m</body>";
            body += std::string(400, 'z');
            const auto p = parse_problem(body, 502);
            REQUIRE(p);
            CHECK(p->type == "about:blank");
            CHECK(p->status == 502);
            CHECK(p->subproblems.empty());
            CHECK(p->detail.starts_with("<html>\\r\\n<body>502 Bad Gateway\\x1b[0m</body>zzz"));
            CHECK(p->detail.ends_with("z..."));
            CHECK(p->detail.size() < 300);
            CHECK(p->summary().starts_with("about:blank (HTTP 502): <html>\\r\\n<body>"));
            // Escaping twice changes nothing: the detail holds no control characters.
            CHECK(p->summary().find("\\\\") == std::string::npos);
        }
        SUBCASE("empty body")
        {
            const auto p = parse_problem("", 500);
            REQUIRE(p);
            CHECK(p->type == "about:blank");
            CHECK(p->status == 500);
            CHECK(p->detail.empty());
            CHECK(p->summary() == "about:blank (HTTP 500)");
        }
        SUBCASE("a JSON array, or an object without type or detail")
        {
            auto p = parse_problem(R"(["not", "a", "problem"])", 400);
            REQUIRE(p);
            CHECK(p->type == "about:blank");
            CHECK(p->detail == R"(["not", "a", "problem"])");
            p = parse_problem(R"({"error":"nope"})", 404);
            REQUIRE(p);
            CHECK(p->type == "about:blank");
            CHECK(p->detail == R"({"error":"nope"})");
        }
        SUBCASE("a body nested too deep is not parsed")
        {
            const auto p = parse_problem(certfleet::acme::test::deep_array(10000), 400);
            REQUIRE(p);
            CHECK(p->type == "about:blank");
            CHECK(p->detail.ends_with("[[[..."));
        }
    }

    TEST_CASE("problem: a success response is not a problem")
    {
        CHECK_FALSE(parse_problem(read_data("rfc8555_8.4_challenge_dns01.json"), 200));
        CHECK_FALSE(parse_problem("<html>fine</html>", 200));
        CHECK_FALSE(parse_problem("", 204));
        CHECK_FALSE(parse_problem(R"({"type":"about:blank","detail":"x"})", 200));
        // ...unless it really is an ACME error document.
        const auto p =
            parse_problem(R"({"type":"urn:ietf:params:acme:error:badNonce","status":400})", 200);
        REQUIRE(p);
        CHECK(p->is("badNonce"));
        CHECK(p->status == 200);
    }

    TEST_CASE("problem: documents are read leniently with wrong members ignored")
    {
        SUBCASE("wrong types")
        {
            const auto p = parse_problem(
                R"({"type":42,"detail":["x"],"status":"400","subproblems":{"a":1}})", 400
            );
            REQUIRE(p);
            CHECK(p->type == "about:blank");
            CHECK(p->status == 400);
            CHECK(p->subproblems.empty());
        }
        SUBCASE("RFC 7807 3.1: title stands in for a missing detail")
        {
            const auto p = parse_problem(R"({"type":"https://ca.example/e","title":"Oops"})", 409);
            REQUIRE(p);
            CHECK(p->type == "https://ca.example/e");
            CHECK(p->detail == "Oops");
            CHECK(p->summary() == "https://ca.example/e (HTTP 409): Oops");
        }
        SUBCASE("status from the document only when the HTTP status is unknown")
        {
            const auto doc = nlohmann::json::parse(
                R"({"type":"urn:ietf:params:acme:error:connection","status":400})"
            );
            CHECK(detail::problem_from_json(doc, 0).status == 400);
            CHECK(detail::problem_from_json(doc, 403).status == 403);
            const auto odd = nlohmann::json::parse(R"({"status":99999})");
            CHECK(detail::problem_from_json(odd, 0).status == 0);
        }
        SUBCASE("subproblems: bad entries skipped, at most 100 kept")
        {
            nlohmann::json doc = {{"type", "urn:ietf:params:acme:error:malformed"}};
            doc["subproblems"] = nlohmann::json::array();
            doc["subproblems"].push_back(7);
            doc["subproblems"].push_back({{"type", "t"}, {"identifier", "not an object"}});
            for (int i = 0; i < 150; ++i) {
                doc["subproblems"].push_back({{"type", "t"}, {"detail", std::to_string(i)}});
            }
            const auto p = parse_problem(doc.dump(), 400);
            REQUIRE(p);
            REQUIRE(p->subproblems.size() == 100);
            CHECK(p->subproblems[0].identifier_value.empty());
            CHECK(p->subproblems[1].detail == "0");
        }
        SUBCASE("long strings are cut on a UTF-8 boundary")
        {
            std::string detail = "\xc3\xa9";
            while (detail.size() < 70000) {
                detail += "\xc3\xa9";
            }
            nlohmann::json doc = {{"type", std::string(5000, 't')}, {"detail", detail}};
            const auto p = parse_problem(doc.dump(), 400);
            REQUIRE(p);
            CHECK(p->type.size() == 1024);
            CHECK(p->detail.size() <= 64 * 1024);
            CHECK(p->detail.size() % 2 == 0);
        }
    }

    TEST_CASE("untrusted JSON: nesting is bounded by a scan before parsing")
    {
        using detail::nesting_within;
        CHECK(nesting_within("{}", 1));
        CHECK_FALSE(nesting_within("[[]]", 1));
        CHECK(nesting_within("[[]]", 2));
        CHECK(nesting_within(R"({"a":"[[[[[[[["})", 1));   // brackets in strings
        CHECK(nesting_within(R"({"a":"\"[[[[[[[["})", 1)); // after an escaped quote
        CHECK_FALSE(nesting_within(R"({"a":"\\",[[[[[[[[]]]]]]]]})", 4)
        );                                   // after an escaped backslash
        CHECK(nesting_within("]]]]][[", 2)); // unbalanced: never negative
        CHECK(nesting_within(std::string(64, '[') + std::string(64, ']'), 64));
        CHECK_FALSE(nesting_within(std::string(65, '['), 64));

        auto r = detail::parse_object(certfleet::acme::test::deep_array(10000));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::value_too_large);
        r = detail::parse_object(std::string(100000, '{'));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::value_too_large);
        r = detail::parse_object(std::string(detail::max_body_size + 1, ' '));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::value_too_large);
        r = detail::parse_object("[]");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::malformed_response);
        r = detail::parse_object(R"({"a":1e99999})");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::malformed_response);
        r = detail::parse_object("{\"a\":\"\xff\"}"); // not UTF-8
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == errc::malformed_response);
        CHECK(detail::parse_object(R"( {"a":[1,{"b":null}]} )").has_value());
    }

    TEST_CASE("untrusted JSON: URLs must be absolute http(s)")
    {
        struct row
        {
            std::string_view url;
            bool ok;
        };
        const row rows[] = {
            {"https://example.com/acme/new-order", true},
            {"http://127.0.0.1:14000/nonce-plz", true},
            {"HTTPS://Example.COM", true},
            {"https://user@example.com/x?y=1#z", true},
            {"https://[::1]:443/dir", true},
            {"", false},
            {"/acme/new-order", false},
            {"example.com/acme", false},
            {"ftp://example.com/", false},
            {"data:text/plain,hello", false},
            {"javascript:alert(1)", false},
            {"https://", false},
            {"https:///path", false},
            {"https://:443/", false},
            {"https://user@/x", false},
            {"https://exa mple.com/", false},
            {"https://example.com/\n", false},
            {"https://example.com/\x7f", false},
            {"https://example.com/<script>", false},
            {"https://ex\xc3\xa4mple.com/", false},
        };
        for (const auto& r : rows) {
            CAPTURE(r.url);
            CHECK(detail::is_http_url(r.url) == r.ok);
        }
    }

    TEST_CASE("errc: the acme category names its errors")
    {
        const boost::system::error_code ec = errc::rate_limited;
        CHECK(ec.category() == acme_category());
        CHECK(std::string(ec.category().name()) == "certfleet.acme");
        CHECK(ec.message() == "rate limited by the ACME server");
        for (int v = 1; v <= static_cast<int>(errc::unsupported); ++v) {
            CHECK(acme_category().message(v) != "unknown acme error");
        }
        CHECK(acme_category().message(0) == "unknown acme error");
    }
}

#include "core/caa_policy.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace certfleet::core;
using namespace std::string_literals;

namespace {

caa_record issue(std::string value, std::uint8_t flags = 0)
{
    return {flags, "issue", std::move(value)};
}

caa_record issuewild(std::string value, std::uint8_t flags = 0)
{
    return {flags, "issuewild", std::move(value)};
}

caa_request for_ca(std::string ca, bool wildcard = false)
{
    caa_request r;
    r.ca_domains = {std::move(ca)};
    r.account_uri = "https://ca.example/acme/acct/1234";
    r.wildcard = wildcard;
    return r;
}

bool contains(std::string_view text, std::string_view part)
{
    return text.find(part) != std::string_view::npos;
}

struct row
{
    std::string_view section;
    std::vector<caa_record> set;
    caa_request request;
    bool allowed;
};

void check_rows(const std::vector<row>& rows)
{
    for (const auto& r : rows) {
        std::string records;
        for (const auto& rec : r.set) {
            records += to_text(rec) + " | ";
        }
        CAPTURE(r.section);
        CAPTURE(records);
        CAPTURE(r.request.ca_domains.empty() ? ""s : r.request.ca_domains.front());
        CAPTURE(r.request.wildcard);
        const auto v = evaluate_caa(r.set, r.request);
        INFO("reason: ", v.reason);
        CHECK(v.allowed == r.allowed);
        CHECK_FALSE(v.reason.empty());
    }
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("caa: an empty relevant RRset lets any CA issue")
    {
        check_rows({
            {"RFC 8659 3", {}, for_ca("ca1.example.net"), true},
            {"RFC 8659 3", {}, for_ca("ca1.example.net", true), true},
            {"RFC 8659 3", {}, caa_request{}, true},
        });
    }

    TEST_CASE("caa: issue properties authorize the CAs they name and no other")
    {
        // certs.example.com CAA 0 issue "ca1.example.net" / 0 issue "ca2.example.org"
        const std::vector<caa_record> certs = {issue("ca1.example.net"), issue("ca2.example.org")};
        caa_request two_names = for_ca("ca9.example.com");
        two_names.ca_domains.emplace_back("ca2.example.org");
        check_rows({
            {"RFC 8659 4.2", certs, for_ca("ca1.example.net"), true},
            {"RFC 8659 4.2", certs, for_ca("ca2.example.org"), true},
            {"RFC 8659 4.2", certs, for_ca("ca3.example.com"), false},
            {"RFC 8659 4.2", certs, for_ca("example.net"), false},
            {"RFC 8659 4.2", certs, for_ca("x.ca1.example.net"), false},
            {"RFC 8659 4.2 (names compare case-insensitively)", certs, for_ca("CA1.Example.NET"),
             true},
            {"RFC 8659 4.2 (a configured final dot)", certs, for_ca("ca1.example.net."), true},
            {"RFC 8555 7.1.1 (several caaIdentities)", certs, two_names, true},
            {"RFC 8659 4.1 (tags compare case-insensitively)",
             {{0, "ISSUE", "ca1.example.net"}},
             for_ca("ca2.example.org"),
             false},
        });
    }

    TEST_CASE("caa: an issue property without an issuer domain name forbids every CA")
    {
        check_rows({
            {"RFC 8659 4.2 (nocerts.example.com)", {issue(";")}, for_ca("ca1.example.net"), false},
            {"RFC 8659 4.2", {issue("")}, for_ca("ca1.example.net"), false},
            {"RFC 8659 4.2", {issue("  ;  ")}, for_ca("ca1.example.net"), false},
            {"RFC 8659 4.2", {issue("; policy=ev")}, for_ca("ca1.example.net"), false},
            {"RFC 8659 4.2 (malformed.example.com)",
             {issue("%%%%%")},
             for_ca("ca1.example.net"),
             false},
            {"RFC 8659 4.2 (authorizations are additive)",
             {issue(";"), issue("ca1.example.net")},
             for_ca("ca1.example.net"),
             true},
            {"RFC 8659 4.2 (authorizations are additive)",
             {issue("%%%%%"), issue("ca1.example.net")},
             for_ca("ca1.example.net"),
             true},
        });
    }

    TEST_CASE("caa: issue values follow the grammar of RFC 8659 4.2")
    {
        struct value_row
        {
            std::string value;
            bool names_ca;
        };
        const value_row values[] = {
            {"ca.example", true},
            {"  ca.example  ", true},
            {"\tca.example", true},
            {"ca.example;", true},
            {"ca.example ; ", true},
            {"ca.example; policy=ev", true},
            {"ca.example;a=b;c=d", true},
            {"ca.example; a = b ;\tc=d ", true},
            {"ca.example; key=", true},
            {"ca.example; k=v=w", true},
            {"ca.example; x-y=1", true},
            {"c--a.example", false}, // another name, well formed
            {"ca.example.", false},
            {".ca.example", false},
            {"ca..example", false},
            {"-ca.example", false},
            {"ca-.example", false},
            {"ca_x.example", false},
            {"ca.example key=value", false},
            {"ca example", false},
            {"ca.example; k=v;", false},
            {"ca.example;;", false},
            {"ca.example; k", false},
            {"ca.example; =v", false},
            {"ca.example; k=v w", false},
            {"ca.example; -k=v", false},
            {"ca.example\x01", false},
            {"ca.ex\xc3\xa4mple", false},
        };
        std::vector<row> rows;
        for (const auto& v : values) {
            rows.push_back({"RFC 8659 4.2", {issue(v.value)}, for_ca("ca.example"), v.names_ca});
        }
        check_rows(rows);
    }

    TEST_CASE("caa: issuewild governs wildcard requests when the RRset has any")
    {
        // wild.example.net CAA 0 issue "ca1.example.net" / 0 issuewild "ca2.example.org"
        const std::vector<caa_record> wild = {
            issue("ca1.example.net"), issuewild("ca2.example.org")};
        // example.net CAA 0 issue "ca1.example.net" / 0 issuewild ";"
        const std::vector<caa_record> no_wild = {issue("ca1.example.net"), issuewild(";")};
        check_rows({
            {"RFC 8659 4.3", wild, for_ca("ca1.example.net"), true},
            {"RFC 8659 4.3", wild, for_ca("ca2.example.org"), false},
            {"RFC 8659 4.3", wild, for_ca("ca2.example.org", true), true},
            {"RFC 8659 4.3", wild, for_ca("ca1.example.net", true), false},
            {"RFC 8659 4.3", no_wild, for_ca("ca1.example.net"), true},
            {"RFC 8659 4.3", no_wild, for_ca("ca1.example.net", true), false},
            {"RFC 8659 4.3 (no issuewild: issue applies)",
             {issue("ca1.example.net")},
             for_ca("ca1.example.net", true),
             true},
            {"RFC 8659 4.3 (no issuewild: issue applies)",
             {issue("ca1.example.net")},
             for_ca("ca2.example.org", true),
             false},
            {"RFC 8659 4.3 (issuewild ignored for other names)",
             {issuewild("ca2.example.org")},
             for_ca("ca1.example.net"),
             true},
        });
    }

    TEST_CASE("caa: records without an issue property do not restrict issuance")
    {
        check_rows({
            {"RFC 8659 4.4",
             {{0, "iodef", "mailto:security@example.com"},
              {0, "iodef", "https://iodef.example.com/"}},
             for_ca("ca1.example.net"),
             true},
            {"RFC 8659 4.4", {{128, "iodef", "mailto:security@example.com"}}, for_ca("ca"), true},
            {"RFC 8659 4", {{0, "tbs", "Unknown"}}, for_ca("ca1.example.net"), true},
            {"RFC 8659 4.1 (reserved flag bits are ignored)",
             {{1, "tbs", "Unknown"}},
             for_ca("ca1.example.net"),
             true},
            {"RFC 8659 4.1 (reserved flag bits are ignored)",
             {{127, "tbs", "Unknown"}},
             for_ca("ca1.example.net"),
             true},
            {"RFC 8659 4", {{0, "iodef", "mailto:x@example.com"}}, caa_request{}, true},
        });
    }

    TEST_CASE("caa: an unknown critical property forbids issuance")
    {
        check_rows({
            {"RFC 8659 4.1",
             {issue("ca.example.net"), {128, "tbs", "Unknown"}},
             for_ca("ca.example.net"),
             false},
            {"RFC 8659 4.1", {{129, "tbs", "Unknown"}}, for_ca("ca.example.net"), false},
            {"RFC 8659 4.1", {{255, "future", "x"}}, for_ca("ca.example.net", true), false},
            {"RFC 8659 4.1",
             {{0, "iodef", "mailto:security@example.com"}, {128, "tbs", "Unknown"}},
             for_ca("ca.example.net"),
             false},
            {"RFC 8659 4.1 (known tags may be critical)",
             {issue("ca.example.net", 128)},
             for_ca("ca.example.net"),
             true},
            {"RFC 8659 4.1 (known tags may be critical)",
             {{128, "IssueWild", "ca.example.net"}, issue("ca.example.net")},
             for_ca("ca.example.net"),
             true},
        });
    }

    TEST_CASE("caa: accounturi limits a property to one ACME account")
    {
        const auto ours = for_ca("example.net");
        auto other = ours;
        other.account_uri = "https://example.net/acme/acct/9999";
        auto unknown = ours;
        unknown.account_uri.clear();
        const auto bound = issue("example.net; accounturi=https://ca.example/acme/acct/1234");
        check_rows({
            {"RFC 8657 3", {bound}, ours, true},
            {"RFC 8657 3", {bound}, other, false},
            {"RFC 8657 3 (an account not known yet cannot match)", {bound}, unknown, false},
            {"RFC 8657 3 (exact match)",
             {issue("example.net; accounturi=https://ca.example/acme/acct/1234/")},
             ours,
             false},
            {"RFC 8657 3 (twice: unsatisfiable)",
             {issue("example.net; accounturi=https://ca.example/acme/acct/1234; "
                    "accounturi=https://ca.example/acme/acct/1234")},
             ours,
             false},
            {"RFC 8657 3 (a property without it matches any account)",
             {bound, issue("example.net")},
             other,
             true},
            {"RFC 8657 3 (another CA's account does not matter)",
             {issue("otherca.example; accounturi=https://otherca.example/acct/1"), bound},
             ours,
             true},
        });
    }

    TEST_CASE("caa: validationmethods limits a property to the ACME methods it lists")
    {
        const auto dns01 = for_ca("example.net");
        auto http01 = dns01;
        http01.validation_method = "http-01";
        const auto with = [](std::string methods) {
            return std::vector<caa_record>{issue("example.net; validationmethods=" + methods)};
        };
        check_rows({
            {"RFC 8657 4", with("dns-01"), dns01, true},
            {"RFC 8657 4", with("http-01"), dns01, false},
            {"RFC 8657 4", with("http-01"), http01, true},
            {"RFC 8657 4", with("http-01,dns-01"), dns01, true},
            {"RFC 8657 4", with("tls-alpn-01,http-01"), dns01, false},
            {"RFC 8657 4 (an empty list names no method)", with(""), dns01, false},
            {"RFC 8657 4 (malformed: unsatisfiable)", with("dns-01,,http-01"), dns01, false},
            {"RFC 8657 4 (malformed: unsatisfiable)", with("dns-01,"), dns01, false},
            {"RFC 8657 4 (labels compare exactly)", with("DNS-01"), dns01, false},
            {"RFC 8657 4 (twice: unsatisfiable)",
             {issue("example.net; validationmethods=dns-01; validationmethods=dns-01")},
             dns01,
             false},
            {"RFC 8657 3, 4 (both parameters)",
             {issue("example.net; accounturi=https://ca.example/acme/acct/1234; "
                    "validationmethods=dns-01")},
             dns01,
             true},
        });
    }

    TEST_CASE("caa: without the CA's identities a restricting RRset is refused")
    {
        const caa_request nothing_configured;
        const auto v = evaluate_caa({issue("letsencrypt.org")}, nothing_configured);
        INFO(v.reason);
        CHECK_FALSE(v.allowed);
        CHECK(contains(v.reason, "CAA identities"));
        CHECK(contains(v.reason, "configure"));
        CHECK(contains(v.reason, R"(`0 issue "letsencrypt.org"`)"));
        CHECK(evaluate_caa({}, nothing_configured).allowed);
        CHECK(evaluate_caa({{0, "iodef", "mailto:a@example.com"}}, nothing_configured).allowed);
    }

    TEST_CASE("caa: reasons name the deciding record and what to change")
    {
        SUBCASE("another CA")
        {
            const auto v = evaluate_caa({issue("otherca.example")}, for_ca("letsencrypt.org"));
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, R"(`0 issue "otherca.example"`)"));
            CHECK(contains(v.reason, R"(add `0 issue "letsencrypt.org"`)"));
        }
        SUBCASE("a wildcard is told about issuewild")
        {
            const auto v = evaluate_caa(
                {issue("letsencrypt.org"), issuewild("otherca.example")},
                for_ca("letsencrypt.org", true)
            );
            INFO(v.reason);
            CHECK_FALSE(v.allowed);
            CHECK(contains(v.reason, R"(`0 issuewild "otherca.example"`)"));
            CHECK(contains(v.reason, R"(add `0 issuewild "letsencrypt.org"`)"));
        }
        SUBCASE("every CA forbidden")
        {
            const auto v = evaluate_caa({issue(";")}, for_ca("letsencrypt.org"));
            INFO(v.reason);
            CHECK(contains(v.reason, R"(`0 issue ";"`)"));
            CHECK(contains(v.reason, "every CA"));
            CHECK(contains(v.reason, R"(add `0 issue "letsencrypt.org"`)"));
        }
        SUBCASE("another account")
        {
            auto request = for_ca("letsencrypt.org");
            const auto v = evaluate_caa(
                {issue("otherca.example"), issue("letsencrypt.org; accounturi=https://x/acct/7")},
                request
            );
            INFO(v.reason);
            CHECK(contains(v.reason, "letsencrypt.org; accounturi=https://x/acct/7"));
            CHECK(contains(v.reason, "https://ca.example/acme/acct/1234"));
            request.account_uri.clear();
            CHECK(contains(
                evaluate_caa({issue("letsencrypt.org; accounturi=https://x/acct/7")}, request)
                    .reason,
                "not known yet"
            ));
        }
        SUBCASE("another method")
        {
            const auto v = evaluate_caa(
                {issue("letsencrypt.org; validationmethods=http-01")}, for_ca("letsencrypt.org")
            );
            INFO(v.reason);
            CHECK(contains(v.reason, "http-01"));
            CHECK(contains(v.reason, "add dns-01"));
        }
        SUBCASE("a critical unknown property")
        {
            const auto v = evaluate_caa(
                {issue("letsencrypt.org"), {128, "tbs", "Unknown"}}, for_ca("letsencrypt.org")
            );
            INFO(v.reason);
            CHECK(contains(v.reason, R"(`128 tbs "Unknown"`)"));
            CHECK(contains(v.reason, "critical"));
        }
        SUBCASE("allowed")
        {
            const auto v = evaluate_caa(
                {issue("otherca.example"), issue("letsencrypt.org")}, for_ca("letsencrypt.org")
            );
            CHECK(v.allowed);
            CHECK(contains(v.reason, R"(`0 issue "letsencrypt.org"` authorizes)"));
        }
    }

    TEST_CASE("caa: records print in presentation form with wire bytes escaped")
    {
        CHECK(to_text(issue("ca.example")) == R"(0 issue "ca.example")");
        CHECK(to_text({128, "tbs", "Unknown"}) == R"(128 tbs "Unknown")");
        CHECK(to_text({0, "is sue", "a\"b\\c\n\xff"s}) == R"(0 is\032sue "a\"b\\c\010\255")");
        CHECK(to_text({0, "issue", "\0"s}) == R"(0 issue "\000")");
    }
}

#include "acme/objects.hpp"

#include <doctest/doctest.h>

#include <functional>

#include "acme/errc.hpp"
#include "unit/acme/test_data.hpp"

using namespace certfleet::acme;
using certfleet::acme::test::deep_array;
using certfleet::acme::test::read_data;
using json = nlohmann::json;

namespace {

json pending_order()
{
    return {
        {"status", "pending"},
        {"expires", "2016-01-05T14:09:07.99Z"},
        {"identifiers", {{{"type", "dns"}, {"value", "www.example.org"}}}},
        {"authorizations", {"https://example.com/acme/authz/PAniVnsZcis"}},
        {"finalize", "https://example.com/acme/order/TOlocE8rfgo/finalize"},
    };
}

json dns_challenge()
{
    return json::parse(read_data("rfc8555_8.4_challenge_dns01.json"));
}

json pending_authorization()
{
    return {
        {"status", "pending"},
        {"identifier", {{"type", "dns"}, {"value", "www.example.org"}}},
        {"challenges", {dns_challenge()}},
    };
}

json valid_account()
{
    return json::parse(read_data("rfc8555_7.1.2_account.json"));
}

template <class Parse> boost::system::error_code error_of(Parse parse, const json& body)
{
    const auto r = parse(body.dump());
    return r ? boost::system::error_code{} : r.error();
}

boost::system::error_code order_error(const json& body)
{
    return error_of([](std::string_view b) { return parse_order(b); }, body);
}
boost::system::error_code authorization_error(const json& body)
{
    return error_of([](std::string_view b) { return parse_authorization(b); }, body);
}
boost::system::error_code challenge_error(const json& body)
{
    return error_of([](std::string_view b) { return parse_challenge(b); }, body);
}
boost::system::error_code account_error(const json& body)
{
    return error_of([](std::string_view b) { return parse_account(b); }, body);
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("objects: status names (RFC 8555 7.1.6)")
    {
        const std::pair<const char*, status> rows[] = {
            {"pending", status::pending},       {"ready", status::ready},
            {"processing", status::processing}, {"valid", status::valid},
            {"invalid", status::invalid},       {"deactivated", status::deactivated},
            {"expired", status::expired},       {"revoked", status::revoked},
        };
        for (const auto& [name, s] : rows) {
            CAPTURE(name);
            CHECK(status_from_string(name) == s);
            CHECK(to_string(s) == name);
        }
        for (const char* name : {"", "Valid", "VALID", "done", "valid ", "pending\n"}) {
            CAPTURE(name);
            CHECK_FALSE(status_from_string(name));
        }
    }

    TEST_CASE("objects: the RFC 8555 7.1.3 order example is read")
    {
        const auto o = parse_order(read_data("rfc8555_7.1.3_order.json"));
        REQUIRE(o.has_value());
        CHECK(o->state == status::valid);
        CHECK(o->expires == "2016-01-20T14:09:07.99Z");
        REQUIRE(o->identifiers.size() == 2);
        CHECK(o->identifiers[0] == identifier{"dns", "www.example.org"});
        CHECK(o->identifiers[1] == identifier{"dns", "example.org"});
        CHECK(
            o->authorizations ==
            std::vector<std::string>{
                "https://example.com/acme/authz/PAniVnsZcis",
                "https://example.com/acme/authz/r4HqLzrSrpI",
            }
        );
        CHECK(o->finalize == "https://example.com/acme/order/TOlocE8rfgo/finalize");
        CHECK(o->certificate == "https://example.com/acme/cert/mAt3xBGaobw");
        CHECK_FALSE(o->error);
        CHECK_FALSE(o->replaces);
        CHECK_FALSE(o->profile);
    }

    TEST_CASE("objects: an order's error, replaces (RFC 9773 5) and profile")
    {
        auto body = pending_order();
        body["status"] = "invalid";
        body["error"] = {
            {"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
            {"detail", "no"},
            {"status", 400},
        };
        body["replaces"] = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
        body["profile"] = "shortlived";
        const auto o = parse_order(body.dump());
        REQUIRE(o.has_value());
        CHECK(o->state == status::invalid);
        REQUIRE(o->error);
        CHECK(o->error->is("rejectedIdentifier"));
        CHECK(o->error->status == 400);
        CHECK(o->replaces == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
        CHECK(o->profile == "shortlived");

        body["error"] = "not a problem";
        CHECK(order_error(body) == errc::malformed_response);
    }

    TEST_CASE("objects: null stands for an absent optional member")
    {
        auto body = pending_order();
        body["certificate"] = nullptr;
        body["error"] = nullptr;
        body["expires"] = nullptr;
        const auto o = parse_order(body.dump());
        REQUIRE(o.has_value());
        CHECK_FALSE(o->certificate);
        CHECK_FALSE(o->error);
        CHECK_FALSE(o->expires);
    }

    TEST_CASE("objects: hostile orders are rejected")
    {
        struct row
        {
            const char* what;
            std::function<void(json&)> change;
            errc expected;
        };
        const row rows[] = {
            {"status as a number", [](json& b) { b["status"] = 1; }, errc::malformed_response},
            {"unknown status", [](json& b) { b["status"] = "finished"; }, errc::malformed_response},
            {"status an order cannot have (7.1.6)", [](json& b) { b["status"] = "revoked"; },
             errc::malformed_response},
            {"no status", [](json& b) { b.erase("status"); }, errc::missing_field},
            {"identifiers as a string", [](json& b) { b["identifiers"] = "www.example.org"; },
             errc::malformed_response},
            {"identifier as a string", [](json& b) { b["identifiers"] = {"www.example.org"}; },
             errc::malformed_response},
            {"identifier without value",
             [](json& b) {
                 b["identifiers"] = json::array({{{"type", "dns"}}});
             },
             errc::missing_field},
            {"identifier value as a number",
             [](json& b) {
                 b["identifiers"] = json::array({{{"type", "dns"}, {"value", 1}}});
             },
             errc::malformed_response},
            {"no identifiers", [](json& b) { b["identifiers"] = json::array(); },
             errc::malformed_response},
            {"missing identifiers", [](json& b) { b.erase("identifiers"); }, errc::missing_field},
            {"missing finalize", [](json& b) { b.erase("finalize"); }, errc::missing_field},
            {"missing authorizations", [](json& b) { b.erase("authorizations"); },
             errc::missing_field},
            {"relative finalize", [](json& b) { b["finalize"] = "/acme/finalize/1"; },
             errc::malformed_response},
            {"finalize not a URL", [](json& b) { b["finalize"] = "finalize me"; },
             errc::malformed_response},
            {"finalize as an object", [](json& b) { b["finalize"] = json::object(); },
             errc::malformed_response},
            {"authorization not a URL", [](json& b) { b["authorizations"] = {"authz/1"}; },
             errc::malformed_response},
            {"authorizations as a string",
             [](json& b) { b["authorizations"] = "https://example.com/acme/authz/1"; },
             errc::malformed_response},
            {"certificate not a URL", [](json& b) { b["certificate"] = "file:///etc/passwd"; },
             errc::malformed_response},
            {"expires as a number", [](json& b) { b["expires"] = 1700000000; },
             errc::malformed_response},
            {"profile as a boolean", [](json& b) { b["profile"] = true; },
             errc::malformed_response},
            {"101 identifiers",
             [](json& b) {
                 b["identifiers"] = json::array();
                 for (int i = 0; i < 101; ++i) {
                     b["identifiers"].push_back({{"type", "dns"}, {"value", "a.example"}});
                 }
             },
             errc::value_too_large},
            {"101 authorizations",
             [](json& b) {
                 b["authorizations"] =
                     std::vector<std::string>(101, "https://example.com/acme/authz/1");
             },
             errc::value_too_large},
            {"an identifier past 64 KiB",
             [](json& b) { b["identifiers"][0]["value"] = std::string(64 * 1024 + 1, 'a'); },
             errc::value_too_large},
        };
        CHECK_FALSE(order_error(pending_order()));
        for (const auto& r : rows) {
            CAPTURE(r.what);
            auto body = pending_order();
            r.change(body);
            CHECK(order_error(body) == r.expected);
        }
        auto body = pending_order();
        body["authorizations"] = std::vector<std::string>(100, "https://example.com/acme/authz/1");
        CHECK_FALSE(order_error(body));
    }

    TEST_CASE("objects: bodies that are not JSON objects or are nested too deep are rejected")
    {
        using parse = std::function<boost::system::error_code(std::string_view)>;
        const std::pair<const char*, parse> parsers[] = {
            {"order", [](std::string_view b) { return parse_order(b).error(); }},
            {"authorization", [](std::string_view b) { return parse_authorization(b).error(); }},
            {"challenge", [](std::string_view b) { return parse_challenge(b).error(); }},
            {"account", [](std::string_view b) { return parse_account(b).error(); }},
        };
        for (const auto& [name, p] : parsers) {
            CAPTURE(name);
            CHECK(p("") == errc::malformed_response);
            CHECK(p("<html>Service Unavailable</html>") == errc::malformed_response);
            CHECK(p("[{\"status\":\"valid\"}]") == errc::malformed_response);
            CHECK(p("\"valid\"") == errc::malformed_response);
            CHECK(p("{\"status\":\"valid\"") == errc::malformed_response);
            CHECK(p(deep_array(10000)) == errc::value_too_large);
            CHECK(p("{\"a\":" + std::string(10000, '{')) == errc::value_too_large);
            CHECK(p(std::string(2 * 1024 * 1024, ' ')) == errc::value_too_large);
        }
    }

    TEST_CASE("objects: the RFC 8555 7.1.4 authorization example is read")
    {
        const auto a = parse_authorization(read_data("rfc8555_7.1.4_authorization.json"));
        REQUIRE(a.has_value());
        CHECK(a->state == status::valid);
        CHECK(a->id == identifier{"dns", "www.example.org"});
        CHECK(a->expires == "2015-03-01T14:09:07.99Z");
        CHECK_FALSE(a->wildcard);
        REQUIRE(a->challenges.size() == 1);
        const auto& c = a->challenges[0];
        CHECK(c.type == "http-01");
        CHECK(c.url == "https://example.com/acme/chall/prV_B7yEyA4");
        CHECK(c.state == status::valid);
        CHECK(c.token == "DGyRejmCefe7v4NfDGDKfA");
        CHECK(a->find("http-01") == &c);
        CHECK(a->find("dns-01") == nullptr);
    }

    TEST_CASE("objects: an authorization with several challenges, wildcard, unknown types")
    {
        auto body = pending_authorization();
        body["wildcard"] = true;
        body["challenges"].push_back({
            {"type", "device-attest-01"},
            {"url", "https://example.com/acme/chall/x"},
            {"status", "pending"},
        });
        auto invalid = dns_challenge();
        invalid["url"] = "https://example.com/acme/chall/y";
        invalid["status"] = "invalid";
        invalid["error"] = {{"type", "urn:ietf:params:acme:error:dns"}, {"detail", "NXDOMAIN"}};
        body["challenges"].push_back(invalid);
        const auto a = parse_authorization(body.dump());
        REQUIRE(a.has_value());
        CHECK(a->wildcard);
        REQUIRE(a->challenges.size() == 3);
        CHECK(a->challenges[1].token.empty());
        REQUIRE(a->challenges[2].error);
        CHECK(a->challenges[2].error->is("dns"));
        CHECK(a->find("dns-01") == &a->challenges[0]);

        body["wildcard"] = "true";
        CHECK(authorization_error(body) == errc::malformed_response);
    }

    TEST_CASE("objects: hostile authorizations are rejected")
    {
        struct row
        {
            const char* what;
            std::function<void(json&)> change;
            errc expected;
        };
        const row rows[] = {
            {"no identifier", [](json& b) { b.erase("identifier"); }, errc::missing_field},
            {"identifier as a string", [](json& b) { b["identifier"] = "www.example.org"; },
             errc::malformed_response},
            {"identifier with an empty value", [](json& b) { b["identifier"]["value"] = ""; },
             errc::malformed_response},
            {"status an authorization cannot have (7.1.6)", [](json& b) { b["status"] = "ready"; },
             errc::malformed_response},
            {"no challenges", [](json& b) { b.erase("challenges"); }, errc::missing_field},
            {"challenges as an object", [](json& b) { b["challenges"] = json::object(); },
             errc::malformed_response},
            {"a challenge as a string", [](json& b) { b["challenges"] = {"dns-01"}; },
             errc::malformed_response},
            {"a bad challenge inside", [](json& b) { b["challenges"][0]["url"] = "chall/1"; },
             errc::malformed_response},
            {"21 challenges",
             [](json& b) {
                 b["challenges"] = json::array();
                 for (int i = 0; i < 21; ++i) {
                     b["challenges"].push_back(dns_challenge());
                 }
             },
             errc::value_too_large},
        };
        CHECK_FALSE(authorization_error(pending_authorization()));
        for (const auto& r : rows) {
            CAPTURE(r.what);
            auto body = pending_authorization();
            r.change(body);
            CHECK(authorization_error(body) == r.expected);
        }
        auto body = pending_authorization();
        body["challenges"] = json::array();
        for (int i = 0; i < 20; ++i) {
            body["challenges"].push_back(dns_challenge());
        }
        CHECK_FALSE(authorization_error(body));
    }

    TEST_CASE("objects: the RFC 8555 8.4 dns-01 challenge example is read")
    {
        const auto c = parse_challenge(read_data("rfc8555_8.4_challenge_dns01.json"));
        REQUIRE(c.has_value());
        CHECK(c->type == "dns-01");
        CHECK(c->url == "https://example.com/acme/chall/Rg5dV14Gh1Q");
        CHECK(c->state == status::pending);
        CHECK(c->token == "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
        CHECK_FALSE(c->error);
    }

    TEST_CASE("objects: tokens are base64url of at least 128 bits (RFC 8555 8.1)")
    {
        struct row
        {
            std::string token;
            bool ok;
        };
        const row rows[] = {
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", true},
            {"DGyRejmCefe7v4NfDGDKfA", true}, // 22 characters: 132 bits
            {"DGyRejmCefe7v4NfDGDKf", false}, // 21 characters: 126 bits
            {"", false},
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ+PCt92wr/oA", false},  // base64, not base64url
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA=", false}, // padding
            {"../../../../etc/passwd/aaaaaaaaaaaaaaaaaaaa", false},
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ PCt92wr-oA", false},
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ.PCt92wr-oA", false},
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ\nPCt92wr-oA", false},
            {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ\xc3\xa9PCt92wr-oA", false},
        };
        for (const auto& r : rows) {
            CAPTURE(r.token);
            CHECK(is_valid_token(r.token) == r.ok);
            auto body = dns_challenge();
            body["token"] = r.token;
            if (r.ok) {
                CHECK_FALSE(challenge_error(body));
            } else {
                CHECK(challenge_error(body) == errc::malformed_response);
            }
        }
        // A token that is not valid UTF-8 cannot even be serialized; send the bytes raw.
        const std::string raw =
            R"({"type":"dns-01","url":"https://ca.example/c","status":"pending",)"
            "\"token\":\"aaaaaaaaaaaaaaaaaaaaaa\xff\"}";
        CHECK(parse_challenge(raw).error() == errc::malformed_response);
    }

    TEST_CASE("objects: hostile challenges are rejected")
    {
        struct row
        {
            const char* what;
            std::function<void(json&)> change;
            errc expected;
        };
        const row rows[] = {
            {"dns-01 without token", [](json& b) { b.erase("token"); }, errc::missing_field},
            {"http-01 without token",
             [](json& b) {
                 b["type"] = "http-01";
                 b.erase("token");
             },
             errc::missing_field},
            {"token as a number", [](json& b) { b["token"] = 12345; }, errc::malformed_response},
            {"no url", [](json& b) { b.erase("url"); }, errc::missing_field},
            {"no type", [](json& b) { b.erase("type"); }, errc::missing_field},
            {"type as an array", [](json& b) { b["type"] = {"dns-01"}; }, errc::malformed_response},
            {"status a challenge cannot have (7.1.6)", [](json& b) { b["status"] = "expired"; },
             errc::malformed_response},
            {"status as an object",
             [](json& b) {
                 b["status"] = {{"valid", true}};
             },
             errc::malformed_response},
            {"unknown type with a bad token",
             [](json& b) {
                 b["type"] = "future-01";
                 b["token"] = "x";
             },
             errc::malformed_response},
            {"token past 64 KiB", [](json& b) { b["token"] = std::string(64 * 1024 + 1, 'a'); },
             errc::value_too_large},
        };
        for (const auto& r : rows) {
            CAPTURE(r.what);
            auto body = dns_challenge();
            r.change(body);
            CHECK(challenge_error(body) == r.expected);
        }
    }

    TEST_CASE("objects: the RFC 8555 7.1.2 account example is read")
    {
        const auto a = parse_account(read_data("rfc8555_7.1.2_account.json"));
        REQUIRE(a.has_value());
        CHECK(a->state == status::valid);
        CHECK(
            a->contact ==
            std::vector<std::string>{"mailto:cert-admin@example.org", "mailto:admin@example.org"}
        );
        CHECK(a->orders == "https://example.com/acme/orders/rzGoeA");
    }

    TEST_CASE("objects: accounts without orders (as Let's Encrypt sends them) and hostile ones")
    {
        auto body = valid_account();
        body.erase("orders");
        body.erase("contact");
        const auto a = parse_account(body.dump());
        REQUIRE(a.has_value());
        CHECK_FALSE(a->orders);
        CHECK(a->contact.empty());

        body = valid_account();
        body["status"] = "deactivated";
        CHECK(parse_account(body.dump())->state == status::deactivated);
        body["status"] = "pending";
        CHECK(account_error(body) == errc::malformed_response);
        body = valid_account();
        body["contact"] = "mailto:a@example.org";
        CHECK(account_error(body) == errc::malformed_response);
        body["contact"] = std::vector<std::string>(101, "mailto:a@example.org");
        CHECK(account_error(body) == errc::value_too_large);
        body = valid_account();
        body["orders"] = "orders/1";
        CHECK(account_error(body) == errc::malformed_response);
    }

    TEST_CASE("objects: request payloads (RFC 8555 7.3 and 7.4, RFC 9773 5, profiles draft)")
    {
        SUBCASE("newOrder")
        {
            const auto ids = dns_identifiers({"www.example.org", "*.example.org"});
            REQUIRE(ids.size() == 2);
            CHECK(ids[1] == identifier{"dns", "*.example.org"});
            CHECK(
                new_order_payload(ids, std::nullopt, std::nullopt).dump() ==
                R"({"identifiers":[{"type":"dns","value":"www.example.org"},)"
                R"({"type":"dns","value":"*.example.org"}]})"
            );
            CHECK(
                new_order_payload(
                    dns_identifiers({"example.org"}),
                    std::string("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"), std::string("shortlived")
                )
                    .dump() ==
                R"({"identifiers":[{"type":"dns","value":"example.org"}],)"
                R"("profile":"shortlived","replaces":"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"})"
            );
            CHECK(dns_identifiers({}).empty());
        }
        SUBCASE("newAccount")
        {
            CHECK(
                new_account_payload({"mailto:cert-admin@example.org"}, true, false).dump() ==
                R"({"contact":["mailto:cert-admin@example.org"],"termsOfServiceAgreed":true})"
            );
            CHECK(new_account_payload({}, false, true).dump() == R"({"onlyReturnExisting":true})");
            CHECK(new_account_payload({}, false, false).dump() == "{}");
        }
    }
}

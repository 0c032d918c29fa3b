// POST /register, GET /health and the routes of the acme-dns API.
#include <doctest/doctest.h>

#include "core/crypto/hash.hpp"
#include "dns/acmedns_api.hpp"
#include "dns/acmedns_rules.hpp"
#include "unit/dns/acmedns_fixture.hpp"

namespace certfleet::dns::test {
namespace {

acmedns_options closed_options(std::vector<std::string> register_from = {})
{
    auto o = acmedns_fixture::open_options();
    o.registration = acmedns_registration_policy::closed;
    for (const auto& text : register_from) {
        o.register_from.push_back(ip_network::parse(text).value());
    }
    return o;
}

std::string error_body(std::string_view code)
{
    return "{\"error\": \"" + std::string(code) + "\"}";
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("acme-dns: health is 200, unknown paths 404, other methods 405 with Allow")
    {
        acmedns_fixture f;
        CHECK(f.call("/health", {.method = boost::beast::http::verb::get}).status == 200);
        CHECK(f.call("/nothing", {}).status == 404);
        const auto wrong = f.call("/update", {.method = boost::beast::http::verb::get});
        CHECK(wrong.status == 405);
        REQUIRE(wrong.headers.size() == 1);
        CHECK(wrong.headers[0].second == "POST");
        CHECK(f.call("/register", {.method = boost::beast::http::verb::put}).status == 405);
    }

    TEST_CASE("acme-dns: open registration answers 201 with what acme-dns clients read")
    {
        acmedns_fixture f;
        const auto r =
            f.call("/register", {.body = R"({"allowfrom": ["192.0.2.0/24", "[2001:db8::]/32"]})"});
        REQUIRE(r.status == 201);
        CHECK(r.content_type == "application/json");
        const auto j = nlohmann::json::parse(r.body);
        CHECK(j.size() == 5);
        const std::string username = j["username"];
        const std::string password = j["password"];
        const std::string subdomain = j["subdomain"];
        CHECK(canonical_uuid(username).value_or("") == username);
        CHECK(canonical_uuid(subdomain).value_or("") == subdomain);
        CHECK(valid_acmedns_key(password));
        CHECK(j["fulldomain"] == subdomain + "." + std::string(zone));
        // As acme-dns hands them back: without brackets.
        CHECK(j["allowfrom"] == nlohmann::json{"192.0.2.0/24", "2001:db8::/32"});

        const auto stored = f.store->find_acmedns_registration(username).value();
        CHECK(stored.key_sha256 == core::sha256(password));
        CHECK(stored.subdomain == subdomain);
        CHECK(stored.created_at == t0);
        CHECK(stored.created_by == "api from 127.0.0.1");
        CHECK(f.api->stats().registrations_ok == 1);
        CHECK_FALSE(f.logged(password));

        // No body, an empty object, null and goacmedns's "AllowFrom" are all fine.
        CHECK(f.call("/register", {}).status == 201);
        CHECK(f.call("/register", {.body = "{}"}).status == 201);
        CHECK(f.call("/register", {.body = "null"}).status == 201);
        const auto capital = f.call("/register", {.body = R"({"AllowFrom": ["10.0.0.0/8"]})"});
        REQUIRE(capital.status == 201);
        CHECK(nlohmann::json::parse(capital.body)["allowfrom"] == nlohmann::json{"10.0.0.0/8"});
        CHECK(f.store->list_acmedns_registrations().value().size() == 5);
    }

    TEST_CASE("acme-dns: registration is closed by default, open to accepted bearer tokens")
    {
        acmedns_fixture f(closed_options());
        const auto refused = f.call("/register", {});
        CHECK(refused.status == 401);
        CHECK(refused.body == error_body("forbidden"));
        CHECK(f.logged("registration is closed"));

        const auto wrong = f.call("/register", {.headers = {{"Authorization", "Bearer other"}}});
        CHECK(wrong.status == 401);
        CHECK(f.logged("the bearer token may not register"));
        CHECK_FALSE(f.logged("other")); // never the token

        // HTTP Basic auth (a proxy's) is not a token: ignored.
        CHECK(
            f.call("/register", {.headers = {{"Authorization", "Basic dXNlcjpwYXNz"}}}).status ==
            401
        );
        const auto granted = f.call(
            "/register", {.headers = {{"authorization", "bearer " + std::string(good_token)}}}
        );
        CHECK(granted.status == 201);
        CHECK(f.api->stats().registrations_forbidden == 3);
        CHECK(f.api->stats().registrations_ok == 1);
        const auto username = nlohmann::json::parse(granted.body)["username"].get<std::string>();
        CHECK(
            f.store->find_acmedns_registration(username).value().created_by ==
            "api token from 127.0.0.1"
        );
        CHECK(f.store->list_acmedns_registrations().value().size() == 1);
    }

    TEST_CASE("acme-dns: registration open to register_from networks, IPv4, IPv6 and mapped")
    {
        acmedns_fixture f(closed_options({"192.0.2.0/24", "2001:db8::/32"}));
        CHECK(f.call("/register", {.peer = "192.0.2.7"}).status == 201);
        CHECK(f.call("/register", {.peer = "::ffff:192.0.2.7"}).status == 201);
        CHECK(f.call("/register", {.peer = "2001:db8::5"}).status == 201);
        CHECK(f.call("/register", {.peer = "198.51.100.1"}).status == 401);
        CHECK(f.call("/register", {.peer = "2001:db9::5"}).status == 401);
        CHECK(f.call("/register", {.peer = "::1"}).status == 401);
    }

    TEST_CASE("acme-dns: disabled registration serves no /register")
    {
        auto o = closed_options();
        o.registration = acmedns_registration_policy::disabled;
        acmedns_fixture f(o);
        CHECK(
            f.call("/register", {.headers = {{"Authorization", "Bearer register-token"}}}).status ==
            404
        );
        CHECK(f.store->list_acmedns_registrations().value().empty());
    }

    TEST_CASE("acme-dns: register bodies acme-dns rejects, and nothing is stored for them")
    {
        acmedns_fixture f;
        for (const std::string& body : std::vector<std::string>{
                 "{", "not json", "[]", "5", R"({"allowfrom": "10.0.0.0/8"})",
                 R"({"allowfrom": [5]})", R"({"allowfrom": [["10.0.0.0/8"]]})",
                 std::string(60'000, '[')}) {
            INFO(body.substr(0, 40));
            const auto r = f.call("/register", {.body = body});
            CHECK(r.status == 400);
            CHECK(r.body == error_body("malformed_json_payload"));
        }
        for (const std::string& cidr : std::vector<std::string>{
                 "192.0.2.1", "192.0.2.0/33", "2001:db8::/129", "fe80::1%eth0/64", "host/8", "",
                 "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/24/8"}) {
            INFO(cidr);
            const auto r =
                f.call("/register", {.body = nlohmann::json{{"allowfrom", {cidr}}}.dump()});
            CHECK(r.status == 400);
            CHECK(r.body == error_body("invalid_allowfrom_cidr"));
        }
        const auto many = nlohmann::json{{"allowfrom", std::vector<std::string>(65, "10.0.0.0/8")}};
        CHECK(
            f.call("/register", {.body = many.dump()}).body == error_body("invalid_allowfrom_cidr")
        );
        CHECK(f.api->stats().registrations_bad_request == 18);
        CHECK(f.store->list_acmedns_registrations().value().empty());
    }

    TEST_CASE("acme-dns: the server's own refusals render as acme-dns errors")
    {
        const auto r = acmedns_error(413, "body_too_large");
        CHECK(r.status == 413);
        CHECK(r.content_type == "application/json");
        CHECK(r.body == error_body("body_too_large"));
    }
}

} // namespace certfleet::dns::test

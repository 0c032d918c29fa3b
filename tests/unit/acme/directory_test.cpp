#include "acme/directory.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "acme/errc.hpp"
#include "unit/acme/test_data.hpp"

using namespace certfleet::acme;
using certfleet::acme::test::read_data;

namespace {

nlohmann::json minimal_directory()
{
    return {
        {"newNonce", "https://ca.example/new-nonce"},
        {"newAccount", "https://ca.example/new-acct"},
        {"newOrder", "https://ca.example/new-order"},
        {"revokeCert", "https://ca.example/revoke"},
        {"keyChange", "https://ca.example/key-change"},
    };
}

boost::system::error_code error_of(const nlohmann::json& body)
{
    const auto d = parse_directory(body.dump());
    return d ? boost::system::error_code{} : d.error();
}

} // namespace

TEST_SUITE("acme")
{
    TEST_CASE("directory: the RFC 8555 7.1.1 example is read")
    {
        const auto d = parse_directory(read_data("rfc8555_7.1.1_directory.json"));
        REQUIRE(d.has_value());
        CHECK(d->new_nonce == "https://example.com/acme/new-nonce");
        CHECK(d->new_account == "https://example.com/acme/new-account");
        CHECK(d->new_order == "https://example.com/acme/new-order");
        CHECK(d->new_authz == "https://example.com/acme/new-authz");
        CHECK(d->revoke_cert == "https://example.com/acme/revoke-cert");
        CHECK(d->key_change == "https://example.com/acme/key-change");
        CHECK(d->renewal_info.empty());
        CHECK(d->meta.terms_of_service == "https://example.com/acme/terms/2017-5-30");
        CHECK(d->meta.website == "https://www.example.com/");
        CHECK(d->meta.caa_identities == std::vector<std::string>{"example.com"});
        CHECK_FALSE(d->meta.external_account_required);
        CHECK(d->meta.profiles.empty());
    }

    TEST_CASE("directory: Pebble-like with renewalInfo (RFC 9773 4) and profiles "
              "(draft-ietf-acme-profiles 3)")
    {
        const auto d = parse_directory(read_data("pebble_directory_profiles.json"));
        REQUIRE(d.has_value());
        CHECK(d->new_nonce == "https://127.0.0.1:14000/nonce-plz");
        CHECK(d->renewal_info == "https://127.0.0.1:14000/draft-ietf-acme-ari-03/renewalInfo");
        CHECK(d->new_authz.empty());
        CHECK(d->meta.terms_of_service == "data:text/plain,Do%20what%20thou%20wilt");
        REQUIRE(d->meta.profiles.size() == 2);
        CHECK(d->meta.profiles[0].first == "default");
        CHECK(d->meta.profiles[0].second == "The profile you know and love");
        CHECK(d->meta.profiles[1].first == "shortlived");
        CHECK(d->has_profile("shortlived"));
        CHECK_FALSE(d->has_profile("tlsserver"));
    }

    TEST_CASE("directory: the five required URLs (RFC 8555 7.1.1)")
    {
        CHECK(parse_directory(minimal_directory().dump()).has_value());
        for (const char* key : {"newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"}) {
            CAPTURE(key);
            auto body = minimal_directory();
            body.erase(key);
            CHECK(error_of(body) == errc::missing_field);
            body[key] = nullptr;
            CHECK(error_of(body) == errc::missing_field);
        }
    }

    TEST_CASE("directory: every resource URL must be an absolute http(s) URL")
    {
        const nlohmann::json bad_values[] = {
            "/acme/new-order",
            "ftp://ca.example/x",
            "https://",
            "",
            "https://ca .example/x",
            42,
            true,
            nlohmann::json::array({"https://ca.example/x"}),
        };
        for (const char* key : {"newOrder", "newAuthz", "renewalInfo"}) {
            for (const auto& value : bad_values) {
                CAPTURE(key);
                CAPTURE(value.dump());
                auto body = minimal_directory();
                body[key] = value;
                CHECK(error_of(body) == errc::malformed_response);
            }
        }
    }

    TEST_CASE("directory: hostile bodies are rejected")
    {
        SUBCASE("not a JSON object")
        {
            for (const char* body :
                 {"", "<html>", "null", "[]", "\"https://x\"", "{\"newNonce\":"}) {
                CAPTURE(body);
                const auto d = parse_directory(body);
                REQUIRE_FALSE(d.has_value());
                CHECK(d.error() == errc::malformed_response);
            }
        }
        SUBCASE("nested 10,000 deep")
        {
            const auto d = parse_directory(certfleet::acme::test::deep_array(10000));
            REQUIRE_FALSE(d.has_value());
            CHECK(d.error() == errc::value_too_large);
        }
        SUBCASE("nesting hidden in an ignored member")
        {
            auto body = minimal_directory().dump();
            body.pop_back();
            body += ",\"x\":" + certfleet::acme::test::deep_array(100) + "}";
            const auto d = parse_directory(body);
            REQUIRE_FALSE(d.has_value());
            CHECK(d.error() == errc::value_too_large);
        }
        SUBCASE("meta of the wrong types")
        {
            auto body = minimal_directory();
            body["meta"] = nlohmann::json::array();
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"externalAccountRequired", "yes"}};
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"caaIdentities", "example.com"}};
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"caaIdentities", {"example.com", 7}}};
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"website", 1}};
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"profiles", {{"default", 1}}}};
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"profiles", {"default"}}};
            CHECK(error_of(body) == errc::malformed_response);
            body["meta"] = {{"externalAccountRequired", true}};
            const auto d = parse_directory(body.dump());
            REQUIRE(d.has_value());
            CHECK(d->meta.external_account_required);
        }
        SUBCASE("arrays, maps and strings past their bounds")
        {
            auto body = minimal_directory();
            body["meta"]["caaIdentities"] = std::vector<std::string>(101, "ca.example");
            CHECK(error_of(body) == errc::value_too_large);
            body["meta"]["caaIdentities"] = std::vector<std::string>(100, "ca.example");
            CHECK_FALSE(error_of(body));

            body = minimal_directory();
            for (int i = 0; i < 101; ++i) {
                body["meta"]["profiles"]["p" + std::to_string(i)] = "a profile";
            }
            CHECK(error_of(body) == errc::value_too_large);
            body["meta"]["profiles"].erase("p0");
            CHECK_FALSE(error_of(body));

            body = minimal_directory();
            body["meta"]["website"] = std::string(64 * 1024 + 1, 'w');
            CHECK(error_of(body) == errc::value_too_large);
            body["meta"]["website"] = std::string(64 * 1024, 'w');
            CHECK_FALSE(error_of(body));

            body = minimal_directory();
            body["newOrder"] = "https://ca.example/" + std::string(64 * 1024, 'o');
            CHECK(error_of(body) == errc::value_too_large);

            body = minimal_directory();
            body["padding"] = std::string(1024 * 1024, ' ');
            CHECK(error_of(body) == errc::value_too_large);
        }
    }

    TEST_CASE("directory: plain http:// only to a loopback host, for the directory and its URLs")
    {
        for (const char* allowed :
             {"https://acme.example.com/dir", "http://127.0.0.1:14000/dir", "http://localhost/dir",
              "http://[::1]:14000/dir", "not a url"}) {
            CAPTURE(allowed);
            CHECK(transport_allowed(allowed));
        }
        for (const char* refused :
             {"http://acme.example.com/dir", "HTTP://acme.example.com/dir", "http://192.0.2.1/dir",
              "http://[2001:db8::1]/dir"}) {
            CAPTURE(refused);
            CHECK_FALSE(transport_allowed(refused));
        }
        auto d = parse_directory(read_data("rfc8555_7.1.1_directory.json"));
        REQUIRE(d.has_value());
        CHECK_FALSE(first_refused_url(*d));
        d->key_change = "http://example.com/acme/key-change";
        CHECK(first_refused_url(*d) == "http://example.com/acme/key-change");
    }
}

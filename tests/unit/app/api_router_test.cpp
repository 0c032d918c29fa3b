// The REST router's pure parts: path templates, scopes, token checks, the failure throttle, and
// the OpenAPI document generated from a route table.
#include "app/api_router.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "app/api_tokens.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"

using namespace certfleet;
using namespace certfleet::app;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

asio::awaitable<net::server_response> answer_ok(api_call call)
{
    net::server_response r;
    r.body =
        nlohmann::json{
            {"caller", call.caller}, {"id", call.path.count("id") ? call.path["id"] : ""}}
            .dump();
    co_return r;
}

api_route make_route(http::verb method, std::string path, std::optional<api_scope> scope)
{
    api_route r;
    r.method = method;
    r.path = std::move(path);
    r.scope = scope;
    r.operation_id = "op" + std::to_string(static_cast<int>(method)) + r.path;
    r.summary = "test route";
    r.response_schema = "Thing";
    r.handler = answer_ok;
    return r;
}

net::server_response serve(
    api_router& router,
    http::verb method,
    std::string target,
    std::string token = {},
    std::string from = "192.0.2.1"
)
{
    net::server_request request;
    request.method = method;
    request.target = target;
    request.path = target.substr(0, target.find('?'));
    request.peer = asio::ip::make_address(from);
    if (!token.empty()) {
        request.headers.emplace_back("Authorization", "Bearer " + token);
    }
    asio::io_context io;
    net::server_response out;
    asio::co_spawn(
        io, router.serve(std::move(request)),
        [&](std::exception_ptr, net::server_response r) { out = std::move(r); }
    );
    io.run();
    return out;
}

core::api_token stored(std::string name, api_scope scope, const std::string& secret)
{
    core::api_token t;
    t.name = std::move(name);
    t.scope = std::string(to_string(scope));
    t.secret_sha256 = core::to_hex(core::sha256(secret));
    return t;
}

} // namespace

TEST_SUITE("api router")
{
    TEST_CASE("path templates bind decoded parameters and nothing else")
    {
        auto m = match_path("/api/v1/domains/{name}", "/api/v1/domains/www.example.com");
        REQUIRE(m.has_value());
        CHECK(m.value().at("name") == "www.example.com");
        CHECK(
            match_path("/api/v1/domains/{name}", "/api/v1/domains/a%2Fb").value().at("name") ==
            "a/b"
        );
        CHECK_FALSE(match_path("/api/v1/domains/{name}", "/api/v1/domains").has_value());
        CHECK_FALSE(match_path("/api/v1/domains/{name}", "/api/v1/domains/x/y").has_value());
        CHECK_FALSE(match_path("/api/v1/domains/{name}", "/api/v1/domains/").has_value());
        CHECK_FALSE(match_path("/api/v1/domains/{name}", "/api/v1/domains/%zz").has_value());
        CHECK_FALSE(match_path("/api/v1/status", "/api/v1/status/").has_value());
        CHECK(match_path("/healthz", "/healthz").has_value());
        CHECK_FALSE(match_path("/api/v1/certificates", "//api/v1/certificates").has_value());
        CHECK_FALSE(match_path("/api/v1/domains/{name}", "/api/v1//domains/x").has_value());
    }

    TEST_CASE("scopes: admin does all, renew reads, read only reads, register only registers")
    {
        CHECK(scope_allows(api_scope::admin, api_scope::register_acmedns));
        CHECK(scope_allows(api_scope::renew, api_scope::read));
        CHECK_FALSE(scope_allows(api_scope::renew, api_scope::admin));
        CHECK_FALSE(scope_allows(api_scope::read, api_scope::renew));
        CHECK_FALSE(scope_allows(api_scope::register_acmedns, api_scope::read));
        CHECK(scope_from_string("register") == api_scope::register_acmedns);
        CHECK_FALSE(scope_from_string("root").has_value());
    }

    TEST_CASE("tokens: the live, unexpired one whose secret hashes alike")
    {
        const auto now = std::chrono::system_clock::now();
        auto live = stored("a", api_scope::read, "cft_live");
        auto revoked = stored("b", api_scope::admin, "cft_revoked");
        revoked.revoked_at = now - 1s;
        auto expired = stored("c", api_scope::admin, "cft_expired");
        expired.expires_at = now - 1s;
        const std::vector<core::api_token> all{live, revoked, expired};
        CHECK(authenticate(all, "cft_live", now).value().name == "a");
        CHECK_FALSE(authenticate(all, "cft_revoked", now).has_value());
        CHECK_FALSE(authenticate(all, "cft_expired", now).has_value());
        CHECK_FALSE(authenticate(all, "cft_other", now).has_value());
        CHECK(bearer_secret("Bearer  abc ").value() == "abc");
        CHECK(bearer_secret("bearer abc").value() == "abc");
        CHECK_FALSE(bearer_secret("Basic abc").has_value());
        CHECK_FALSE(bearer_secret("Bearer ").has_value());
    }

    TEST_CASE("the throttle: a burst of failures, then one per refill, per source")
    {
        auth_throttle t({.burst = 3, .refill = 1000ms, .max_sources = 2});
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 3; ++i) {
            CHECK_FALSE(t.blocked_for("a", t0).has_value());
            t.failed("a", t0);
        }
        const auto wait = t.blocked_for("a", t0);
        REQUIRE(wait.has_value());
        CHECK(wait.value() <= 1001ms);
        CHECK_FALSE(t.blocked_for("b", t0).has_value());
        CHECK_FALSE(t.blocked_for("a", t0 + 1001ms).has_value());
        // The table stays bounded: a third source pushes out the stalest.
        t.failed("b", t0 + 2s);
        t.failed("c", t0 + 3s);
        CHECK_FALSE(t.blocked_for("a", t0 + 3s).has_value());
    }

    TEST_CASE(
        "dispatch: 401 without or with a wrong token, 403 for the wrong scope, 429 past the budget"
    )
    {
        std::vector<api_route> routes{
            make_route(http::verb::get, "/open", std::nullopt),
            make_route(http::verb::get, "/things/{id}", api_scope::read),
            make_route(http::verb::post, "/things", api_scope::admin)};
        std::vector<core::api_token> tokens{stored("reader", api_scope::read, "cft_r")};
        api_router router(routes, [&] { return tokens; }, {.burst = 5, .refill = 60s});

        CHECK(serve(router, http::verb::get, "/open").status == 200);
        auto ok = serve(router, http::verb::get, "/things/7", "cft_r");
        CHECK(ok.status == 200);
        CHECK(nlohmann::json::parse(ok.body)["id"] == "7");
        CHECK(nlohmann::json::parse(ok.body)["caller"] == "reader");
        CHECK(serve(router, http::verb::get, "/things/7").status == 401);
        CHECK(serve(router, http::verb::get, "/things/7", "cft_x").status == 401);
        CHECK(serve(router, http::verb::post, "/things", "cft_r").status == 403);
        CHECK(serve(router, http::verb::delete_, "/things", "cft_r").status == 405);
        CHECK(serve(router, http::verb::get, "/nothing").status == 404);
        for (int i = 0; i < 5; ++i) {
            (void)serve(router, http::verb::get, "/things/1", "cft_guess", "198.51.100.9");
        }
        const auto limited = serve(router, http::verb::get, "/things/1", "cft_r", "198.51.100.9");
        CHECK(limited.status == 429);
        CHECK(serve(router, http::verb::get, "/things/1", "cft_r", "198.51.100.10").status == 200);
    }

    TEST_CASE("the OpenAPI document has every route with its security, parameters and schemas")
    {
        std::vector<api_route> routes{
            make_route(http::verb::get, "/open", std::nullopt),
            make_route(http::verb::get, "/things/{id}", api_scope::read)};
        api_router router(routes, [] { return std::vector<core::api_token>{}; });
        const auto doc = router.openapi({{"Thing", {{"type", "object"}}}}, "9.9.9");
        CHECK(doc["openapi"] == "3.1.0");
        CHECK(doc["info"]["version"] == "9.9.9");
        CHECK(doc["paths"].size() == 2);
        const auto& op = doc["paths"]["/things/{id}"]["get"];
        CHECK(op["security"][0].contains("bearer"));
        CHECK(op["parameters"][0]["name"] == "id");
        CHECK(op["parameters"][0]["in"] == "path");
        CHECK(op["responses"].contains("401"));
        CHECK(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] ==
            "#/components/schemas/Thing"
        );
        CHECK(doc["paths"]["/open"]["get"]["security"][0].empty());
        CHECK(doc["components"]["schemas"].contains("Error"));
    }
}

#pragma once
// The REST API's route table and the router that serves it. One table says, per route, its
// method and path template, the scope a token needs, its parameters and the schemas of its
// bodies; the router dispatches by it and the OpenAPI document is generated from it, so what
// the server serves and what it documents cannot drift apart.
//
// Authentication: "Authorization: Bearer <token>" (api_tokens.hpp). A missing, unknown, expired
// or revoked token is 401 `unauthorized`; a token whose scope does not allow the route is 403
// `forbidden`. A source address that fails authentication too often is answered 429
// `too_many_failures` (with Retry-After) without looking at its token, so guessing is slow.
// Unknown paths are 404 `not_found`, a known path with another method 405 `method_not_allowed`
// (with Allow). Every error body is {"error": {"code": "...", "message": "..."}}.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/api_paths.hpp"
#include "app/api_tokens.hpp"
#include "net/http_server.hpp"

namespace certfleet::app {

struct api_call
{
    net::server_request request;
    std::map<std::string, std::string> path; // the path template's {parameters}, decoded
    std::string caller;                      // the token's name ("local" for the local CLI)
    std::string scope = "admin";             // the token's scope ("admin" for the local CLI)
};

using api_handler = std::function<boost::asio::awaitable<net::server_response>(api_call)>;

struct api_parameter
{
    std::string name;
    std::string in = "query";    // "query" or "path"
    std::string type = "string"; // JSON Schema type: "string", "integer", "boolean"
    std::string description;
    bool required = false;
};

struct api_route
{
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string path;               // "/api/v1/certificates/{id}"
    std::optional<api_scope> scope; // none: open to all (health, the OpenAPI document)
    std::string operation_id;
    std::string summary;
    std::vector<api_parameter> parameters; // path parameters may be omitted: strings then
    std::string request_schema;            // a component schema name, or "" for no body
    unsigned success_status = 200;
    std::string response_schema; // a component schema name, or "" for none
    std::string response_type = "application/json";
    api_handler handler;
};

// The JSON error every route and the router answer with.
[[nodiscard]] net::server_response
api_error(unsigned status, std::string_view code, std::string_view message);
// A JSON body with this status.
[[nodiscard]] net::server_response json_response(const nlohmann::json& body, unsigned status = 200);

// Per-source budget of failed authentications: `burst` at once, then one per `refill`.
struct auth_throttle_options
{
    unsigned burst = 10;
    std::chrono::milliseconds refill{6000};
    std::size_t max_sources = 65536; // the table's bound; the stalest source is forgotten
};

class auth_throttle
{
public:
    explicit auth_throttle(auth_throttle_options options = {}) : options_(options) {}
    // Whether the source may try (again); when not, how long until it may.
    [[nodiscard]] std::optional<std::chrono::milliseconds>
    blocked_for(const std::string& source, std::chrono::steady_clock::time_point now);
    void failed(const std::string& source, std::chrono::steady_clock::time_point now);

private:
    struct bucket
    {
        double tokens = 0;
        std::chrono::steady_clock::time_point updated;
    };
    void refill(bucket& b, std::chrono::steady_clock::time_point now) const;

    auth_throttle_options options_;
    std::map<std::string, bucket> buckets_;
};

class api_router
{
public:
    // Reads the live tokens; called per authenticated request (tokens made or revoked by the
    // CLI take effect at once).
    using token_source = std::function<std::vector<core::api_token>()>;

    api_router(
        std::vector<api_route> routes, token_source tokens, auth_throttle_options throttle = {}
    );

    // Serves one request: matches, authenticates, authorizes, calls the handler. Requests whose
    // path is not under one of the routes' prefixes are still answered (404).
    [[nodiscard]] boost::asio::awaitable<net::server_response> serve(net::server_request request);

    // For the local CLI: the same dispatch as an admin caller, without a token.
    [[nodiscard]] boost::asio::awaitable<net::server_response>
    serve_trusted(net::server_request request);

    // The OpenAPI 3.1 document of these routes, with `schemas` as its component schemas.
    [[nodiscard]] nlohmann::json
    openapi(const nlohmann::json& schemas, std::string_view version) const;

    [[nodiscard]] const std::vector<api_route>& routes() const noexcept { return routes_; }

private:
    [[nodiscard]] boost::asio::awaitable<net::server_response>
    dispatch(net::server_request request, std::optional<core::api_token> caller, bool trusted);

    std::vector<api_route> routes_;
    token_source tokens_;
    auth_throttle throttle_;
};

} // namespace certfleet::app

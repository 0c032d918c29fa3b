#include "app/api_router.hpp"

#include <algorithm>
#include <boost/beast/http/verb.hpp>
#include <set>

namespace certfleet::app {
namespace http = boost::beast::http;
using nlohmann::json;

namespace {

std::string source_of(const net::server_request& r)
{
    return r.peer.to_string();
}

std::string method_name(http::verb v)
{
    auto text = std::string(http::to_string(v));
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return text;
}

json error_response_doc(std::string_view description)
{
    return {
        {"description", description},
        {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}},
    };
}

} // namespace

net::server_response api_error(unsigned status, std::string_view code, std::string_view message)
{
    return net::json_error_response(status, code, message);
}

net::server_response json_response(const json& body, unsigned status)
{
    net::server_response r;
    r.status = status;
    r.body = body.dump();
    return r;
}

void auth_throttle::refill(bucket& b, std::chrono::steady_clock::time_point now) const
{
    const auto elapsed = std::chrono::duration<double, std::milli>(now - b.updated).count();
    b.tokens = std::min<double>(
        options_.burst, b.tokens + elapsed / static_cast<double>(options_.refill.count())
    );
    b.updated = now;
}

std::optional<std::chrono::milliseconds>
auth_throttle::blocked_for(const std::string& source, std::chrono::steady_clock::time_point now)
{
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
        return std::nullopt;
    }
    refill(it->second, now);
    if (it->second.tokens >= 1.0) {
        return std::nullopt;
    }
    const auto missing = 1.0 - it->second.tokens;
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(missing * static_cast<double>(options_.refill.count())) + 1
    );
}

void auth_throttle::failed(const std::string& source, std::chrono::steady_clock::time_point now)
{
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
        if (buckets_.size() >= options_.max_sources) {
            // Forget the source that failed longest ago: the table stays bounded under a spray of
            // addresses, and a source forgotten starts again with a full budget only.
            auto stalest = std::min_element(
                buckets_.begin(), buckets_.end(),
                [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; }
            );
            buckets_.erase(stalest);
        }
        it = buckets_.emplace(source, bucket{static_cast<double>(options_.burst), now}).first;
    }
    refill(it->second, now);
    it->second.tokens = std::max(0.0, it->second.tokens - 1.0);
}

api_router::api_router(
    std::vector<api_route> routes, token_source tokens, auth_throttle_options throttle
)
    : routes_(std::move(routes)), tokens_(std::move(tokens)), throttle_(throttle)
{}

boost::asio::awaitable<net::server_response> api_router::serve(net::server_request request)
{
    return dispatch(std::move(request), std::nullopt, false);
}

boost::asio::awaitable<net::server_response> api_router::serve_trusted(net::server_request request)
{
    return dispatch(std::move(request), std::nullopt, true);
}

boost::asio::awaitable<net::server_response> api_router::dispatch(
    net::server_request request, std::optional<core::api_token> caller, bool trusted
)
{
    const api_route* route = nullptr;
    std::map<std::string, std::string> bound;
    std::set<std::string> allowed;
    for (const auto& r : routes_) {
        auto m = match_path(r.path, request.path);
        if (!m) {
            continue;
        }
        const bool same_method = r.method == request.method || (r.method == http::verb::get &&
                                                                request.method == http::verb::head);
        if (!same_method) {
            allowed.insert(std::string(http::to_string(r.method)));
            continue;
        }
        route = &r;
        bound = std::move(*m);
        break;
    }
    if (route == nullptr) {
        if (allowed.empty()) {
            co_return api_error(404, "not_found", "no such resource (see /api/v1/openapi.json)");
        }
        std::string allow;
        for (const auto& m : allowed) {
            allow += (allow.empty() ? "" : ", ") + m;
        }
        auto r = api_error(405, "method_not_allowed", "this resource allows " + allow);
        r.headers.emplace_back("Allow", allow);
        co_return r;
    }

    std::string caller_name = "local";
    std::string caller_scope = trusted ? "admin" : ""; // an open route has no caller
    if (route->scope && !trusted) {
        const auto source = source_of(request);
        const auto now = std::chrono::steady_clock::now();
        if (auto wait = throttle_.blocked_for(source, now)) {
            auto r = api_error(
                429, "too_many_failures",
                "too many failed authentications from this address; retry later"
            );
            r.headers.emplace_back(
                "Retry-After",
                std::to_string(std::chrono::ceil<std::chrono::seconds>(*wait).count())
            );
            co_return r;
        }
        const auto header = request.header("Authorization");
        const auto secret = header ? bearer_secret(*header) : std::nullopt;
        if (secret) {
            caller = authenticate(tokens_(), *secret, std::chrono::system_clock::now());
        }
        if (!caller) {
            throttle_.failed(source, now);
            auto r = api_error(
                401, "unauthorized",
                secret ? "the token is unknown, expired or revoked"
                       : "send an API token: Authorization: Bearer <token> (certfleet token create)"
            );
            r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"certfleet\"");
            co_return r;
        }
        const auto held = scope_from_string(caller->scope);
        if (!held || !scope_allows(*held, *route->scope)) {
            co_return api_error(
                403, "forbidden",
                "this token's scope (" + caller->scope + ") does not allow this; it needs " +
                    std::string(to_string(*route->scope))
            );
        }
        caller_name = caller->name;
        caller_scope = caller->scope;
    }
    api_call call{
        std::move(request), std::move(bound), std::move(caller_name), std::move(caller_scope)};
    auto response = co_await route->handler(std::move(call));
    co_return response;
}

json api_router::openapi(const json& schemas, std::string_view version) const
{
    json paths = json::object();
    for (const auto& r : routes_) {
        json op{
            {"operationId", r.operation_id},
            {"summary", r.summary},
        };
        json parameters = json::array();
        std::set<std::string> described;
        for (const auto& p : r.parameters) {
            described.insert(p.name);
            json param{
                {"name", p.name},
                {"in", p.in},
                {"required", p.in == "path" || p.required},
                {"schema", {{"type", p.type}}},
            };
            if (!p.description.empty()) {
                param["description"] = p.description;
            }
            parameters.push_back(std::move(param));
        }
        for (const auto& segment : path_segments(r.path)) {
            if (segment.size() > 2 && segment.front() == '{') {
                const auto name = std::string(segment.substr(1, segment.size() - 2));
                if (!described.contains(name)) {
                    parameters.push_back(
                        {{"name", name},
                         {"in", "path"},
                         {"required", true},
                         {"schema", {{"type", "string"}}}}
                    );
                }
            }
        }
        if (!parameters.empty()) {
            op["parameters"] = std::move(parameters);
        }
        if (!r.request_schema.empty()) {
            op["requestBody"] = {
                {"required", true},
                {"content",
                 {{"application/json",
                   {{"schema", {{"$ref", "#/components/schemas/" + r.request_schema}}}}}}},
            };
        }
        json success{{"description", r.summary}};
        if (!r.response_schema.empty()) {
            success["content"] = {
                {r.response_type,
                 {{"schema", {{"$ref", "#/components/schemas/" + r.response_schema}}}}}};
        } else if (r.response_type != "application/json") {
            success["content"] = {{r.response_type, {{"schema", {{"type", "string"}}}}}};
        }
        json responses{{std::to_string(r.success_status), success}};
        if (r.scope) {
            op["security"] = json::array({{{"bearer", json::array()}}});
            responses["401"] = error_response_doc("no valid token");
            responses["403"] = error_response_doc("the token's scope does not allow this");
            responses["429"] =
                error_response_doc("too many failed authentications from this address");
        } else {
            op["security"] = json::array({json::object()});
        }
        if (!r.request_schema.empty() || !r.parameters.empty() ||
            r.path.find('{') != std::string::npos) {
            responses["400"] = error_response_doc("invalid request");
        }
        if (r.path.find('{') != std::string::npos) {
            responses["404"] = error_response_doc("no such resource");
        }
        op["responses"] = std::move(responses);
        paths[r.path][method_name(r.method)] = std::move(op);
    }
    json components_schemas = schemas;
    components_schemas["Error"] = {
        {"type", "object"},
        {"required", json::array({"error"})},
        {"properties",
         {{"error",
           {{"type", "object"},
            {"required", json::array({"code", "message"})},
            {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}},
    };
    return {
        {"openapi", "3.1.0"},
        {"info",
         {{"title", "certfleet API"},
          {"version", version},
          {"description", "Certificates, domains, renewals and events of a certfleet server."}}},
        {"paths", std::move(paths)},
        {"components",
         {{"schemas", std::move(components_schemas)},
          {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
    };
}

} // namespace certfleet::app

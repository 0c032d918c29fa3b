#include "app/dashboard_http.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <utility>

namespace certfleet::app {
namespace http = boost::beast::http;

namespace {

constexpr std::string_view ui_prefix = "/ui/";

// No inline script or style anywhere, nothing from another host, no framing, no plugins.
constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

net::server_response page_response(unsigned status, std::string_view content_type)
{
    net::server_response r;
    r.status = status;
    r.content_type = std::string(content_type);
    r.headers = {
        {"Content-Security-Policy", std::string(content_security_policy)},
        {"X-Frame-Options", "DENY"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
    };
    return r;
}

net::server_response text_response(unsigned status, std::string_view text)
{
    auto r = page_response(status, "text/plain; charset=utf-8");
    r.body = std::string(text) + "\n";
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

// Whether an If-None-Match list names this ETag (or is "*"), RFC 9110 13.1.2 (weak comparison).
bool etag_matches(std::string_view if_none_match, std::string_view etag)
{
    while (!if_none_match.empty()) {
        const auto comma = if_none_match.find(',');
        auto item = if_none_match.substr(0, comma);
        if_none_match =
            comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (item.starts_with("W/")) {
            item.remove_prefix(2);
        }
        if (item == "*" || item == etag) {
            return true;
        }
    }
    return false;
}

} // namespace

std::string_view dashboard_content_type(std::string_view path) noexcept
{
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".json", "application/json"},
        {".png", "image/png"},
    }};
    for (const auto& [extension, type] : types) {
        if (path.ends_with(extension)) {
            return type;
        }
    }
    return "application/octet-stream";
}

std::optional<net::server_response>
serve_dashboard(const net::server_request& request, std::span<const dashboard_asset> assets)
{
    std::string_view name;
    if (request.path == "/") {
        name = "index.html";
    } else if (request.path.starts_with(ui_prefix)) {
        name = std::string_view(request.path).substr(ui_prefix.size());
    } else {
        return std::nullopt;
    }
    if (request.method != http::verb::get && request.method != http::verb::head) {
        auto r = text_response(405, "the dashboard's files are read with GET");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    const auto asset =
        std::find_if(assets.begin(), assets.end(), [&](const auto& a) { return a.path == name; });
    if (asset == assets.end()) {
        return text_response(404, "no such file in the dashboard; open / to start");
    }
    const auto if_none_match = request.header("If-None-Match");
    const bool unchanged = if_none_match && etag_matches(*if_none_match, asset->etag);
    auto r = page_response(unchanged ? 304 : 200, dashboard_content_type(asset->path));
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("ETag", std::string(asset->etag));
    if (!unchanged) {
        r.body = std::string(asset->body);
    }
    return r;
}

void add_api_response_headers(net::server_response& response)
{
    const auto has = [&](std::string_view name) {
        return std::any_of(response.headers.begin(), response.headers.end(), [&](const auto& h) {
            return boost::beast::iequals(h.first, name);
        });
    };
    if (!has("Cache-Control")) {
        response.headers.emplace_back("Cache-Control", "no-store");
    }
    if (!has("X-Content-Type-Options")) {
        response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    }
}

} // namespace certfleet::app

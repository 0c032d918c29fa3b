#include "app/dashboard_http.hpp"

#include <doctest/doctest.h>

#include <array>

namespace certfleet::app {
namespace {
namespace http = boost::beast::http;

const std::array<dashboard_asset, 2> assets{{
    {"index.html", "<!doctype html><title>x</title>", "\"aaaa\""},
    {"js/app.js", "export {};", "\"bbbb\""},
}};

net::server_request request(std::string path, http::verb method = http::verb::get)
{
    net::server_request r;
    r.method = method;
    r.path = std::move(path);
    r.target = r.path;
    return r;
}

std::string header(const net::server_response& r, std::string_view name)
{
    for (const auto& [key, value] : r.headers) {
        if (key == name) {
            return value;
        }
    }
    return "";
}

} // namespace

TEST_SUITE("app")
{
    TEST_CASE("dashboard: / is the page and /ui/ its files, with their media types")
    {
        const auto page = serve_dashboard(request("/"), assets);
        REQUIRE(page.has_value());
        CHECK(page->status == 200);
        CHECK(page->content_type == "text/html; charset=utf-8");
        CHECK(page->body == assets[0].body);
        const auto script = serve_dashboard(request("/ui/js/app.js"), assets);
        REQUIRE(script.has_value());
        CHECK(script->content_type == "text/javascript; charset=utf-8");
        CHECK(script->body == "export {};");
        CHECK(dashboard_content_type("a.css") == "text/css; charset=utf-8");
        CHECK(dashboard_content_type("icon.svg") == "image/svg+xml");
        CHECK(dashboard_content_type("data.bin") == "application/octet-stream");
    }

    TEST_CASE("dashboard: the API's paths are not the dashboard's")
    {
        CHECK_FALSE(serve_dashboard(request("/api/v1/status"), assets).has_value());
        CHECK_FALSE(serve_dashboard(request("/healthz"), assets).has_value());
        CHECK_FALSE(serve_dashboard(request("/index.html"), assets).has_value());
    }

    TEST_CASE("dashboard: every answer forbids framing, sniffing, inline scripts and other hosts")
    {
        for (const auto* path : {"/", "/ui/js/app.js", "/ui/missing.js"}) {
            CAPTURE(path);
            const auto r = serve_dashboard(request(path), assets);
            REQUIRE(r.has_value());
            const auto csp = header(*r, "Content-Security-Policy");
            CHECK(csp.find("default-src 'none'") != std::string::npos);
            CHECK(csp.find("script-src 'self';") != std::string::npos);
            CHECK(csp.find("connect-src 'self';") != std::string::npos);
            CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
            CHECK(csp.find("unsafe-inline") == std::string::npos);
            CHECK(header(*r, "X-Frame-Options") == "DENY");
            CHECK(header(*r, "X-Content-Type-Options") == "nosniff");
            CHECK(header(*r, "Referrer-Policy") == "no-referrer");
        }
    }

    TEST_CASE("dashboard: files are revalidated by ETag and unchanged ones answer 304")
    {
        const auto first = serve_dashboard(request("/"), assets);
        REQUIRE(first.has_value());
        CHECK(header(*first, "Cache-Control") == "no-cache");
        CHECK(header(*first, "ETag") == "\"aaaa\"");
        for (const auto* tag : {"\"aaaa\"", "W/\"aaaa\"", "\"zz\", \"aaaa\"", "*"}) {
            CAPTURE(tag);
            auto again = request("/");
            again.headers.emplace_back("If-None-Match", tag);
            const auto r = serve_dashboard(again, assets);
            REQUIRE(r.has_value());
            CHECK(r->status == 304);
            CHECK(r->body.empty());
        }
        auto stale = request("/");
        stale.headers.emplace_back("If-None-Match", "\"old\"");
        CHECK(serve_dashboard(stale, assets)->status == 200);
    }

    TEST_CASE("dashboard: unknown files are 404 and other methods 405")
    {
        const auto missing = serve_dashboard(request("/ui/nothing.js"), assets);
        REQUIRE(missing.has_value());
        CHECK(missing->status == 404);
        CHECK(header(*missing, "Cache-Control") == "no-store");
        const auto post = serve_dashboard(request("/", http::verb::post), assets);
        REQUIRE(post.has_value());
        CHECK(post->status == 405);
        CHECK(header(*post, "Allow") == "GET, HEAD");
        CHECK(serve_dashboard(request("/", http::verb::head), assets)->status == 200);
    }

    TEST_CASE("dashboard: the binary holds the page and every file it loads")
    {
        const auto embedded = dashboard_assets();
        std::string index;
        for (const auto& a : embedded) {
            CHECK(a.etag.size() == 34); // 32 hex digits, quoted
            if (a.path == "index.html") {
                index = std::string(a.body);
            }
        }
        REQUIRE_FALSE(index.empty());
        CHECK(index.find("<script>") == std::string::npos); // no inline script
        CHECK(index.find("style=") == std::string::npos);   // no inline style
        // Every /ui/ reference of the page is embedded.
        for (auto at = index.find("/ui/"); at != std::string::npos;
             at = index.find("/ui/", at + 1)) {
            const auto end = index.find('"', at);
            const auto file = index.substr(at + 4, end - at - 4);
            CAPTURE(file);
            CHECK(serve_dashboard(request("/ui/" + file), embedded)->status == 200);
        }
        // Every module a script imports is embedded beside it.
        std::size_t imports = 0;
        for (const auto& a : embedded) {
            if (!a.path.ends_with(".js")) {
                continue;
            }
            const auto dir = std::string(a.path.substr(0, a.path.rfind('/') + 1));
            const std::string_view body = a.body;
            for (auto at = body.find("from './"); at != std::string_view::npos;
                 at = body.find("from './", at + 1)) {
                const auto start = at + 8;
                const auto file =
                    dir + std::string(body.substr(start, body.find('\'', start) - start));
                CAPTURE(file);
                CHECK(serve_dashboard(request("/ui/" + file), embedded)->status == 200);
                ++imports;
            }
        }
        CHECK(imports > 5);
    }

    TEST_CASE("dashboard: API answers are never cached or sniffed, unless a route says otherwise")
    {
        net::server_response r;
        add_api_response_headers(r);
        CHECK(header(r, "Cache-Control") == "no-store");
        CHECK(header(r, "X-Content-Type-Options") == "nosniff");
        net::server_response own;
        own.headers.emplace_back("cache-control", "max-age=60");
        add_api_response_headers(own);
        CHECK(header(own, "cache-control") == "max-age=60");
        CHECK(header(own, "Cache-Control").empty());
    }
}

} // namespace certfleet::app

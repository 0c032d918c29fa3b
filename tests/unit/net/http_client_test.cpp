#include "net/http_client.hpp"

#include <doctest/doctest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/string.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/errc.hpp"
#include "net/url.hpp"
#include "unit/net/test_server.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
using net::errc;
using net::http_client;
using net::http_client_options;
using net::http_request;
using test::run;
using test::test_server;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// GCC 12 miscompiles a braced aggregate temporary that lives across a suspension, as in
// `co_await client.request({.url = u})`: it is copied bitwise into the coroutine frame and its
// strings are later freed from the wrong address. Requests are built by these functions or in
// named variables instead.
http_request get(std::string url)
{
    http_request req;
    req.url = std::move(url);
    return req;
}

http_request with_method(http::verb method, std::string url, std::string body = {})
{
    http_request req;
    req.method = method;
    req.url = std::move(url);
    req.body = std::move(body);
    return req;
}

std::size_t count_field(const test::server_request& req, http::field f)
{
    std::size_t n = 0;
    for (const auto& field : req) {
        n += field.name() == f ? 1 : 0;
    }
    return n;
}

} // namespace

TEST_SUITE("net")
{
    TEST_CASE("http_client: GET and POST round trip with headers")
    {
        asio::io_context io;
        test_server server(io);
        server.on_request = [](const test::server_request& req, test::server_response& res) {
            res.set("X-Method", std::string(req.method_string()));
            res.set(http::field::content_type, "application/json");
            res.body() = "echo:" + req.body();
        };
        http_client client(io.get_executor(), {});

        SUBCASE("GET")
        {
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request(get(server.url("/directory?x=1#frag")));
                REQUIRE(r.has_value());
                CHECK(r->status == 200);
                CHECK(r->body == "echo:");
                CHECK(r->header("x-method") == "GET");
                CHECK(r->header("CONTENT-TYPE") == "application/json");
                CHECK_FALSE(r->header("Location").has_value());
            });
            REQUIRE(server.requests.size() == 1);
            const auto& req = server.requests[0];
            CHECK(req.method() == http::verb::get);
            CHECK(req.target() == "/directory?x=1");
            CHECK(req[http::field::user_agent] == "certfleet/0.1");
            CHECK(req[http::field::host] == "127.0.0.1:" + std::to_string(server.port()));
            CHECK(req.count(http::field::content_type) == 0);
            CHECK(req.count(http::field::content_length) == 0);
        }

        SUBCASE("POST with a body, a Content-Type and extra headers")
        {
            run(io, [&]() -> asio::awaitable<void> {
                // Built outside the co_await: GCC 12 rejects nested braced lists inside one.
                http_request req{
                    .method = http::verb::post,
                    .url = server.url("/acme/new-order"),
                    .body = R"({"protected":"x"})",
                    .content_type = "application/jose+json",
                    .headers = {{"Accept-Language", "en"}, {"User-Agent", "custom/2"}},
                };
                auto r = co_await client.request(std::move(req));
                REQUIRE(r.has_value());
                CHECK(r->status == 200);
                CHECK(r->body == R"(echo:{"protected":"x"})");
                CHECK(r->header("X-Method") == "POST");
            });
            REQUIRE(server.requests.size() == 1);
            const auto& req = server.requests[0];
            CHECK(req.method() == http::verb::post);
            CHECK(req[http::field::content_type] == "application/jose+json");
            CHECK(req[http::field::content_length] == "17");
            CHECK(req[http::field::accept_language] == "en");
            CHECK(req[http::field::user_agent] == "custom/2"); // replaces the default
            CHECK(count_field(req, http::field::user_agent) == 1);
        }

        SUBCASE("POST with an empty body sends Content-Length: 0")
        {
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request(with_method(http::verb::post, server.url("/")));
                REQUIRE(r.has_value());
            });
            REQUIRE(server.requests.size() == 1);
            CHECK(server.requests[0][http::field::content_length] == "0");
        }
    }

    TEST_CASE("http_client: invalid URLs and headers fail before any connection")
    {
        asio::io_context io;
        http_client client(io.get_executor(), {});
        std::vector<std::pair<http_request, errc>> rows;
        rows.push_back({{.url = "ftp://example.com/"}, errc::bad_url});
        rows.push_back({{.url = "/relative"}, errc::bad_url});
        rows.push_back(
            {{.url = "http://127.0.0.1:1/", .headers = {{"X", "a\r\nB: c"}}}, errc::bad_request}
        );
        rows.push_back(
            {{.url = "http://127.0.0.1:1/", .headers = {{"Bad Name", "v"}}}, errc::bad_request}
        );
        rows.push_back({{.url = "http://127.0.0.1:1/", .headers = {{"", "v"}}}, errc::bad_request});
        rows.push_back(
            {{.url = "http://127.0.0.1:1/", .headers = {{"content-length", "5"}}},
             errc::bad_request}
        );
        rows.push_back(
            {{.url = "http://127.0.0.1:1/", .headers = {{"Transfer-Encoding", "chunked"}}},
             errc::bad_request}
        );
        rows.push_back({{.url = "http://127.0.0.1:1/", .content_type = "a\nb"}, errc::bad_request});
        run(io, [&]() -> asio::awaitable<void> {
            for (auto& [req, expected] : rows) {
                CAPTURE(req.url);
                auto r = co_await client.request(req);
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error() == expected);
            }
        });
        CHECK(client.connections_opened() == 0);
    }

    TEST_CASE("http_client: a kept-alive connection serves sequential requests")
    {
        asio::io_context io;
        test_server server(io);
        http_client client(io.get_executor(), {});
        run(io, [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 3; ++i) {
                auto r = co_await client.request(get(server.url("/n")));
                REQUIRE(r.has_value());
                CHECK(r->status == 200);
                CHECK(client.idle_connections() == 1);
            }
            // HEAD: Content-Length without a body must not desynchronise the connection.
            server.on_request = [](const test::server_request&, test::server_response& res) {
                res.content_length(1000);
            };
            auto head = co_await client.request(with_method(http::verb::head, server.url("/")));
            REQUIRE(head.has_value());
            CHECK(head->header("Content-Length") == "1000");
            CHECK(head->body.empty());
            server.on_request = [](const test::server_request&, test::server_response& res) {
                res.body() = "after head";
            };
            auto after = co_await client.request(get(server.url("/")));
            REQUIRE(after.has_value());
            CHECK(after->body == "after head");
        });
        CHECK(client.connections_opened() == 1);
        CHECK(server.accepted == 1);
        CHECK(server.requests.size() == 5);
    }

    TEST_CASE("http_client: Connection: close is honoured")
    {
        asio::io_context io;
        test_server server(io);
        server.on_request = [](const test::server_request&, test::server_response& res) {
            res.keep_alive(false);
        };
        http_client client(io.get_executor(), {});
        run(io, [&]() -> asio::awaitable<void> {
            REQUIRE((co_await client.request(get(server.url("/")))).has_value());
            CHECK(client.idle_connections() == 0);
            REQUIRE((co_await client.request(get(server.url("/")))).has_value());
        });
        CHECK(client.connections_opened() == 2);
    }

    TEST_CASE("http_client: concurrent requests each get a connection")
    {
        constexpr std::size_t n = 16;
        asio::io_context io;
        test_server server(io);
        server.response_delay = 50ms; // every request is in flight before the first answer
        server.on_request = [](const test::server_request& req, test::server_response& res) {
            res.body() = std::string(req.target());
        };
        http_client client(io.get_executor(), {});
        std::vector<std::optional<boost::system::result<net::http_response>>> results(n);
        run(io, [&]() -> asio::awaitable<void> {
            std::size_t remaining = n;
            asio::steady_timer all_done(io, asio::steady_timer::time_point::max());
            for (std::size_t i = 0; i < n; ++i) {
                asio::co_spawn(
                    io,
                    [&, i]() -> asio::awaitable<void> {
                        results[i] =
                            co_await client.request(get(server.url("/" + std::to_string(i))));
                        if (--remaining == 0) {
                            all_done.cancel();
                        }
                    },
                    asio::detached
                );
            }
            co_await all_done.async_wait(test::use_tuple);
        });
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i);
            REQUIRE(results[i].has_value());
            REQUIRE(results[i]->has_value());
            CHECK((*results[i])->body == "/" + std::to_string(i));
        }
        CHECK(client.connections_opened() == n);
        CHECK(client.idle_connections() == http_client_options{}.max_idle_connections_per_host);
    }

    TEST_CASE("http_client: request_timeout bounds a server that never answers")
    {
        asio::io_context io;
        test_server server(io);
        server.never_answer = true;
        http_client client(io.get_executor(), {.request_timeout = 200ms});
        run(io, [&]() -> asio::awaitable<void> {
            const auto start = std::chrono::steady_clock::now();
            auto r = co_await client.request_detailed(get(server.url("/slow")));
            const auto elapsed = std::chrono::steady_clock::now() - start;
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == errc::timeout);
            CHECK(r.error().message().find("200 ms") != std::string::npos);
            CHECK(elapsed >= 190ms);
            CHECK(elapsed < 2s);
        });
        CHECK(client.idle_connections() == 0);
        CHECK(server.requests.size() == 1); // a timeout is never retried
    }

    TEST_CASE("http_client: connect_timeout bounds a TLS handshake that never completes")
    {
        asio::io_context io;
        test_server server(io);
        server.silent = true;
        http_client client(io.get_executor(), {.connect_timeout = 200ms});
        run(io, [&]() -> asio::awaitable<void> {
            const auto start = std::chrono::steady_clock::now();
            auto r = co_await client.request_detailed(
                get("https://127.0.0.1:" + std::to_string(server.port()) + "/")
            );
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == errc::timeout);
            CHECK(r.error().message().find("TLS handshake") != std::string::npos);
            CHECK(std::chrono::steady_clock::now() - start < 2s);
        });
    }

    TEST_CASE("http_client: connection refused")
    {
        asio::io_context io;
        std::uint16_t port = 0;
        {
            asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
            port = probe.local_endpoint().port();
        } // closed: nothing listens there now
        http_client client(io.get_executor(), {});
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request_detailed(
                get("http://127.0.0.1:" + std::to_string(port) + "/")
            );
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == errc::connection_refused);
            CHECK(r.error().cause == asio::error::connection_refused);
            CHECK(
                r.error().message().find("127.0.0.1:" + std::to_string(port)) != std::string::npos
            );

            auto plain = co_await client.request(get("http://127.0.0.1:" + std::to_string(port)));
            REQUIRE_FALSE(plain.has_value());
            CHECK(plain.error() == errc::connection_refused);
        });
    }

    TEST_CASE("http_client: response limits")
    {
        asio::io_context io;
        test_server server(io);
        http_client client(io.get_executor(), {.max_body_bytes = 1000, .max_header_bytes = 1024});
        errc expected = errc::body_too_large;

        SUBCASE("body with Content-Length")
        {
            server.on_request = [](const test::server_request&, test::server_response& res) {
                res.body() = std::string(1001, 'x');
            };
        }
        SUBCASE("chunked body")
        {
            server.on_request = [](const test::server_request&, test::server_response& res) {
                res.body() = std::string(5000, 'x');
                res.chunked(true);
            };
        }
        SUBCASE("header")
        {
            server.on_request = [](const test::server_request&, test::server_response& res) {
                res.set("X-Large", std::string(2000, 'h'));
            };
            expected = errc::header_too_large;
        }
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request_detailed(get(server.url("/big")));
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == expected);
            CHECK(r.error().message().find("limit is") != std::string::npos);
        });
        CHECK(client.idle_connections() == 0);
    }

    TEST_CASE("http_client: exactly 1000 bytes of body is within the limit")
    {
        asio::io_context io;
        test_server server(io);
        server.on_request = [](const test::server_request&, test::server_response& res) {
            res.body() = std::string(1000, 'x');
        };
        http_client client(io.get_executor(), {.max_body_bytes = 1000});
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request(get(server.url("/")));
            REQUIRE(r.has_value());
            CHECK(r->body.size() == 1000);
        });
    }

    TEST_CASE("http_client: a server closing kept-alive connections is transparent")
    {
        asio::io_context io;
        test_server server(io);

        SUBCASE("closed after the response")
        {
            server.close_after_response = true;
            http_client client(io.get_executor(), {});
            run(io, [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 3; ++i) {
                    auto r = co_await client.request(get(server.url("/")));
                    REQUIRE(r.has_value());
                }
            });
            CHECK(client.connections_opened() == 3);
            CHECK(server.requests.size() == 3);
        }

        SUBCASE("closed on reading the next request: retried once on a fresh connection")
        {
            server.drop = [](std::size_t nth_on_connection, std::size_t) {
                return nth_on_connection == 2;
            };
            http_client client(io.get_executor(), {});
            run(io, [&]() -> asio::awaitable<void> {
                REQUIRE((co_await client.request(get(server.url("/1")))).has_value());
                auto r =
                    co_await client.request(with_method(http::verb::post, server.url("/2"), "jws"));
                REQUIRE(r.has_value());
                CHECK(r->status == 200);
            });
            CHECK(client.connections_opened() == 2);
            REQUIRE(server.requests.size() == 3);
            CHECK(server.requests[1].target() == "/2");
            CHECK(server.requests[2].target() == "/2");
            CHECK(server.requests[2].body() == "jws");
        }

        SUBCASE("the retry happens once only")
        {
            server.drop = [](std::size_t, std::size_t nth_overall) { return nth_overall >= 2; };
            http_client client(io.get_executor(), {});
            run(io, [&]() -> asio::awaitable<void> {
                REQUIRE((co_await client.request(get(server.url("/1")))).has_value());
                auto r = co_await client.request(get(server.url("/2")));
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error() == errc::connection_closed);
            });
            CHECK(client.connections_opened() == 2);
            CHECK(server.requests.size() == 3);
        }

        SUBCASE("a fresh connection that fails is not retried")
        {
            server.drop = [](std::size_t, std::size_t) { return true; };
            http_client client(io.get_executor(), {});
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request(with_method(http::verb::post, server.url("/")));
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error() == errc::connection_closed);
            });
            CHECK(client.connections_opened() == 1);
            CHECK(server.requests.size() == 1);
        }
    }

    TEST_CASE("http_client: unusual but valid framing")
    {
        asio::io_context io;
        test_server server(io);
        http_client client(io.get_executor(), {});

        SUBCASE("interim 1xx responses are skipped (RFC 9110 §15.2)")
        {
            server.raw_response = "HTTP/1.1 100 Continue\r\n\r\n"
                                  "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                  "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request(get(server.url("/")));
                REQUIRE(r.has_value());
                CHECK(r->status == 201);
                CHECK(r->body == "ok");
                CHECK(r->headers_named("link").empty());
            });
            CHECK(client.idle_connections() == 1);
        }

        SUBCASE("a body delimited by the end of the connection (RFC 9112 §6.3)")
        {
            server.raw_response = "HTTP/1.0 200 OK\r\n\r\nuntil close";
            server.close_after_response = true;
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request(get(server.url("/")));
                REQUIRE(r.has_value());
                CHECK(r->body == "until close");
            });
            CHECK(client.idle_connections() == 0);
        }

        SUBCASE("bytes after the response make the connection unusable")
        {
            server.raw_response = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                                  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb";
            run(io, [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 2; ++i) {
                    auto r = co_await client.request(get(server.url("/")));
                    REQUIRE(r.has_value());
                    CHECK(r->body == "a");
                }
            });
            CHECK(client.connections_opened() == 2);
        }

        SUBCASE("a malformed response")
        {
            server.raw_response = "HTTP/1.1 2x0 OK\r\n\r\n";
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request(get(server.url("/")));
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error() == errc::bad_response);
            });
        }
    }

    TEST_CASE("http_client: idle connections older than idle_timeout are not reused")
    {
        asio::io_context io;
        test_server server(io);
        http_client client(io.get_executor(), {.idle_timeout = 20ms});
        run(io, [&]() -> asio::awaitable<void> {
            REQUIRE((co_await client.request(get(server.url("/")))).has_value());
            asio::steady_timer pause(io, 40ms);
            co_await pause.async_wait(test::use_tuple);
            REQUIRE((co_await client.request(get(server.url("/")))).has_value());
        });
        CHECK(client.connections_opened() == 2);
        CHECK(client.idle_connections() == 1);
    }

    TEST_CASE("http_client: every Link header is returned, redirects are not followed")
    {
        asio::io_context io;
        test_server server(io);
        server.on_request = [](const test::server_request&, test::server_response& res) {
            res.result(http::status::moved_permanently);
            res.insert(http::field::link, R"(<https://example.com/acme/directory>;rel="index")");
            res.insert(http::field::location, "/elsewhere");
            res.insert(http::field::link, R"(</acme/cert/1/1>;rel="alternate")");
            res.insert("link", R"(</acme/cert/1/2>;rel="alternate")");
        };
        http_client client(io.get_executor(), {});
        run(io, [&]() -> asio::awaitable<void> {
            const auto url = server.url("/acme/cert/1");
            auto r = co_await client.request(get(url));
            REQUIRE(r.has_value());
            CHECK(r->status == 301);
            const auto links = r->headers_named("LINK");
            REQUIRE(links.size() == 3);
            CHECK(links[0] == R"(<https://example.com/acme/directory>;rel="index")");
            CHECK(links[1] == R"(</acme/cert/1/1>;rel="alternate")");
            CHECK(links[2] == R"(</acme/cert/1/2>;rel="alternate")");
            CHECK(r->header("link") == links[0]);
            CHECK(r->headers_named("X-None").empty());
            CHECK(net::resolve_reference(url, *r->header("location")) == server.url("/elsewhere"));
        });
        CHECK(server.requests.size() == 1);
    }

    TEST_CASE("http_client: a client destroyed mid-request lets the request finish")
    {
        asio::io_context io;
        test_server server(io);
        server.response_delay = 50ms;
        auto client = std::make_unique<http_client>(io.get_executor(), http_client_options{});
        std::optional<boost::system::result<net::http_response>> result;
        run(io, [&]() -> asio::awaitable<void> {
            asio::steady_timer done(io, asio::steady_timer::time_point::max());
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    result = co_await client->request(get(server.url("/")));
                    done.cancel();
                },
                asio::detached
            );
            asio::steady_timer pause(io, 10ms);
            co_await pause.async_wait(test::use_tuple);
            REQUIRE(server.requests.size() == 1);
            client.reset();
            co_await done.async_wait(test::use_tuple);
        });
        REQUIRE(result.has_value());
        REQUIRE(result->has_value());
        CHECK((*result)->status == 200);
    }
}

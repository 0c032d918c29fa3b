#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "net/errc.hpp"
#include "net/http_client.hpp"
#include "unit/net/test_pki.hpp"
#include "unit/net/test_server.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
using net::errc;
using net::http_client;
using net::http_request;
using test::run;
using test::test_server;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// A CA, a server certificate for IP:127.0.0.1 only and one for DNS:localhost only, generated
// once per process; the CA is written to a temporary PEM file for ca_file.
struct pki
{
    test::issued ca = test::pki_issue("certfleet test CA", nullptr);
    test::issued ip_leaf = test::pki_issue("127.0.0.1", &ca, "IP:127.0.0.1");
    test::issued name_leaf = test::pki_issue("localhost", &ca, "DNS:localhost");
    std::filesystem::path ca_file =
        std::filesystem::temp_directory_path() /
        ("certfleet-net-test-ca-" + std::to_string(::getpid()) + ".pem");

    pki()
    {
        std::ofstream out(ca_file);
        out << ca.cert_pem;
        if (!out.flush()) {
            throw std::runtime_error("cannot write " + ca_file.string());
        }
    }
    ~pki()
    {
        std::error_code ignored;
        std::filesystem::remove(ca_file, ignored);
    }
    pki(const pki&) = delete;
    pki& operator=(const pki&) = delete;
};

const pki& shared_pki()
{
    static const pki instance;
    return instance;
}

asio::ssl::context server_context(const test::issued& leaf)
{
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    ctx.use_certificate_chain(asio::buffer(leaf.cert_pem));
    ctx.use_private_key(asio::buffer(leaf.key_pem), asio::ssl::context::pem);
    return ctx;
}

net::http_client_options trusting_test_ca()
{
    net::http_client_options options;
    options.ca_file = shared_pki().ca_file.string();
    return options;
}

// See http_client_test.cpp: no braced http_request temporaries inside co_await (GCC 12).
http_request get(std::string url)
{
    http_request req;
    req.url = std::move(url);
    return req;
}

} // namespace

TEST_SUITE("net")
{
    TEST_CASE("https: trusted chain, IP SAN, no SNI, connection reuse")
    {
        auto tls = server_context(shared_pki().ip_leaf);
        asio::io_context io;
        test_server server(io, &tls);
        server.on_request = [](const test::server_request& req, test::server_response& res) {
            res.body() = "secure " + std::string(req.target());
        };
        http_client client(io.get_executor(), trusting_test_ca());
        run(io, [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 2; ++i) {
                auto r = co_await client.request(get(server.url("/directory")));
                REQUIRE(r.has_value());
                CHECK(r->status == 200);
                CHECK(r->body == "secure /directory");
            }
        });
        CHECK(client.connections_opened() == 1);
        CHECK(server.server_names == std::vector<std::string>{""}); // RFC 6066 §3: no IP in SNI
    }

    TEST_CASE("https: DNS SAN with SNI")
    {
        auto tls = server_context(shared_pki().name_leaf);
        asio::io_context io;
        test_server server(io, &tls);
        http_client client(io.get_executor(), trusting_test_ca());
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request(get(server.url("/", "localhost")));
            REQUIRE(r.has_value());
            CHECK(r->status == 200);
        });
        CHECK(server.server_names == std::vector<std::string>{"localhost"});
        REQUIRE(server.requests.size() == 1);
        CHECK(
            server.requests[0][http::field::host] == "localhost:" + std::to_string(server.port())
        );
    }

    TEST_CASE("https: an untrusted CA fails verification with the reason")
    {
        auto tls = server_context(shared_pki().ip_leaf);
        asio::io_context io;
        test_server server(io, &tls);
        http_client client(io.get_executor(), {}); // system roots only
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request_detailed(get(server.url("/")));
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == errc::certificate_verification_failed);
            CHECK(
                r.error().detail.find("unable to get local issuer certificate") != std::string::npos
            );
            CHECK(r.error().message().find("TLS certificate verification failed") == 0);
            CHECK(r.error().cause); // OpenSSL's own error is kept
        });
        CHECK(server.requests.empty());
    }

    TEST_CASE("https: the certificate must name the host")
    {
        asio::io_context io;

        SUBCASE("https://localhost against a certificate for 127.0.0.1 only")
        {
            auto tls = server_context(shared_pki().ip_leaf);
            test_server server(io, &tls);
            http_client client(io.get_executor(), trusting_test_ca());
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request_detailed(get(server.url("/", "localhost")));
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code == errc::certificate_verification_failed);
                CHECK(r.error().detail.find("hostname mismatch") != std::string::npos);
            });
            CHECK(server.requests.empty());
        }

        SUBCASE("https://127.0.0.1 against a certificate for localhost only")
        {
            auto tls = server_context(shared_pki().name_leaf);
            test_server server(io, &tls);
            http_client client(io.get_executor(), trusting_test_ca());
            run(io, [&]() -> asio::awaitable<void> {
                auto r = co_await client.request_detailed(get(server.url("/")));
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code == errc::certificate_verification_failed);
                CHECK(r.error().detail.find("IP address mismatch") != std::string::npos);
            });
            CHECK(server.requests.empty());
        }
    }

    TEST_CASE("https: verify_peer = false accepts an untrusted certificate")
    {
        auto tls = server_context(shared_pki().name_leaf);
        asio::io_context io;
        test_server server(io, &tls);
        http_client client(io.get_executor(), {.verify_peer = false});
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request(get(server.url("/")));
            REQUIRE(r.has_value());
            CHECK(r->status == 200);
        });
    }

    TEST_CASE("https: a server that does not speak TLS")
    {
        asio::io_context io;
        test_server server(io); // plain HTTP
        http_client client(io.get_executor(), trusting_test_ca());
        run(io, [&]() -> asio::awaitable<void> {
            auto r = co_await client.request_detailed(
                get("https://127.0.0.1:" + std::to_string(server.port()) + "/")
            );
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == errc::tls_handshake_failed);
        });
    }

    TEST_CASE("https: a kept-alive connection closed by the server is retried once")
    {
        auto tls = server_context(shared_pki().ip_leaf);
        asio::io_context io;
        test_server server(io, &tls);
        server.drop = [](std::size_t nth_on_connection, std::size_t) {
            return nth_on_connection == 2;
        };
        http_client client(io.get_executor(), trusting_test_ca());
        run(io, [&]() -> asio::awaitable<void> {
            REQUIRE((co_await client.request(get(server.url("/1")))).has_value());
            auto r = co_await client.request(get(server.url("/2")));
            REQUIRE(r.has_value());
            CHECK(r->status == 200);
        });
        CHECK(client.connections_opened() == 2);
        CHECK(server.requests.size() == 3);
    }

    TEST_CASE("http_client: a CA file that cannot be loaded fails at construction")
    {
        asio::io_context io;
        CHECK_THROWS_AS(
            http_client(io.get_executor(), {.ca_file = "/nonexistent/ca.pem"}), std::runtime_error
        );
        const auto not_pem = std::filesystem::temp_directory_path() /
                             ("certfleet-net-test-not-pem-" + std::to_string(::getpid()));
        std::ofstream(not_pem) << "not a certificate\n";
        CHECK_THROWS_WITH_AS(
            http_client(io.get_executor(), {.ca_file = not_pem.string()}),
            doctest::Contains("cannot load CA file"), std::runtime_error
        );
        std::filesystem::remove(not_pem);
    }
}

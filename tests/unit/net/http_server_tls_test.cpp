// The HTTP server over TLS (net::lean_tls_stream): requests of every size and pipelined ones on
// one connection, the handshake, idle and eviction closes, graceful shutdown, a renewed
// certificate for new connections only, clients that leave with or without close_notify.
#include <doctest/doctest.h>
#include <poll.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.hpp"
#include "unit/net/server_fixture.hpp"
#include "unit/net/test_pki.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using test::running_server;

namespace {

// A blocking TLS client that checks nothing about the server (the pinning test does that).
struct tls_client
{
    explicit tls_client(std::uint16_t port) : stream(io, context)
    {
        context.set_verify_mode(asio::ssl::verify_none);
        stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        stream.handshake(asio::ssl::stream_base::client);
    }
    void send(std::string_view text)
    {
        asio::write(stream, asio::buffer(text.data(), text.size()));
    }
    http::response<http::string_body> read_response()
    {
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        http::read(stream, buffer, parser);
        return parser.release();
    }
    // Whether the server ended the connection within `deadline` (a read finds its end).
    bool closed_within(std::chrono::milliseconds deadline)
    {
        pollfd p{stream.next_layer().native_handle(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(deadline.count())) <= 0) {
            return false;
        }
        boost::system::error_code ec;
        char byte = 0;
        stream.read_some(asio::buffer(&byte, 1), ec);
        return ec.failed();
    }
    std::unique_ptr<X509, test::pki_deleter> peer_certificate()
    {
        return std::unique_ptr<X509, test::pki_deleter>(
            SSL_get1_peer_certificate(stream.native_handle())
        );
    }

    asio::io_context io;
    asio::ssl::context context{asio::ssl::context::tls_client};
    asio::ssl::stream<tcp::socket> stream;
    boost::beast::flat_buffer buffer;
};

std::string get(std::string_view path)
{
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

net::http_server_options tls_options(const test::issued& leaf)
{
    net::http_server_options o;
    o.tls = net::make_tls_server_context_from_pem(leaf.cert_pem, leaf.key_pem);
    return o;
}

// Polls the server until `done` holds or 3 s pass.
template <class Check> bool eventually(running_server& s, Check done)
{
    for (int i = 0; i < 150; ++i) {
        if (done(s.stats())) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

const test::issued& leaf_a()
{
    static const auto ca = test::pki_issue("server tls test", nullptr);
    static const auto leaf = test::pki_issue("127.0.0.1", &ca, "IP:127.0.0.1");
    return leaf;
}

} // namespace

TEST_SUITE("http server")
{
    TEST_CASE("TLS keep-alive: small, large and pipelined requests on one connection")
    {
        running_server s(tls_options(leaf_a()));
        tls_client c(s.port);
        c.send(get("/a?q=x"));
        auto first = c.read_response();
        CHECK(first.result_int() == 200);
        CHECK(nlohmann::json::parse(first.body())["tls"] == true);
        // Many records each way, more than the socket buffers hold.
        const std::string big(600 * 1024, 'b');
        c.send(
            "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
            "\r\n\r\n" + big
        );
        auto second = c.read_response();
        CHECK(second.result_int() == 200);
        CHECK(nlohmann::json::parse(second.body())["body"] == big);
        // Two requests in one record: the second is decrypted before it is asked for.
        c.send(get("/p1") + get("/p2"));
        CHECK(nlohmann::json::parse(c.read_response().body())["path"] == "/p1");
        CHECK(nlohmann::json::parse(c.read_response().body())["path"] == "/p2");
        const auto stats = s.stats();
        CHECK(stats.requests == 4);
        CHECK(stats.connections_accepted == 1);
        CHECK(stats.bad_requests == 0);
    }

    TEST_CASE("TLS: a silent client is cut off at handshake_timeout, a plain HTTP one at once")
    {
        auto o = tls_options(leaf_a());
        o.handshake_timeout = 300ms;
        running_server s(o);
        asio::io_context io;
        tcp::socket silent(io);
        silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port));
        const auto started = std::chrono::steady_clock::now();
        pollfd p{silent.native_handle(), POLLIN, 0};
        REQUIRE(::poll(&p, 1, 3000) == 1);
        const auto waited = std::chrono::steady_clock::now() - started;
        CHECK(waited >= 250ms);
        CHECK(waited < 2s);
        tcp::socket plain(io);
        plain.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), s.port));
        asio::write(plain, asio::buffer(get("/")));
        pollfd q{plain.native_handle(), POLLIN, 0};
        CHECK(::poll(&q, 1, 3000) == 1);
        CHECK(eventually(s, [](const auto& st) {
            return st.tls_failures == 2 && st.open_connections == 0;
        }));
        tls_client c(s.port);
        c.send(get("/after"));
        CHECK(c.read_response().result_int() == 200);
    }

    TEST_CASE("TLS: a kept-alive connection idle past idle_timeout is closed and counted")
    {
        auto o = tls_options(leaf_a());
        o.idle_timeout = 300ms;
        running_server s(o);
        tls_client c(s.port);
        c.send(get("/once"));
        CHECK(c.read_response().result_int() == 200);
        const auto started = std::chrono::steady_clock::now();
        CHECK(c.closed_within(3000ms));
        CHECK(std::chrono::steady_clock::now() - started >= 250ms);
        CHECK(eventually(s, [](const auto& st) {
            return st.timeouts == 1 && st.open_connections == 0;
        }));
    }

    TEST_CASE("TLS: the oldest idle connection makes room at the cap, shutdown closes idle ones")
    {
        auto o = tls_options(leaf_a());
        o.max_connections = 3;
        running_server s(o);
        std::vector<std::unique_ptr<tls_client>> idle;
        for (int i = 0; i < 3; ++i) {
            idle.push_back(std::make_unique<tls_client>(s.port));
            idle.back()->send(get("/first"));
            CHECK(idle.back()->read_response().result_int() == 200);
        }
        tls_client fresh(s.port);
        fresh.send(get("/fresh"));
        CHECK(fresh.read_response().result_int() == 200);
        CHECK(idle.front()->closed_within(2000ms));
        idle[1]->send(get("/still"));
        CHECK(idle[1]->read_response().result_int() == 200);

        std::promise<void> finished;
        asio::post(s.io, [&] {
            asio::co_spawn(s.io, s.server->shutdown(2000ms), [&](std::exception_ptr) {
                finished.set_value();
            });
        });
        CHECK(finished.get_future().wait_for(3s) == std::future_status::ready);
        CHECK(idle[1]->closed_within(1000ms));
        CHECK(idle[2]->closed_within(1000ms));
        CHECK(fresh.closed_within(1000ms));
        CHECK(s.stats().open_connections == 0);
    }

    TEST_CASE("TLS: set_tls serves new connections the renewed certificate, open ones go on")
    {
        const auto ca = test::pki_issue("renewal test", nullptr);
        const auto old_leaf = test::pki_issue("127.0.0.1", &ca, "IP:127.0.0.1");
        const auto new_leaf = test::pki_issue("127.0.0.1", &ca, "IP:127.0.0.1");
        running_server s(tls_options(old_leaf));
        tls_client before(s.port);
        std::promise<void> renewed;
        asio::post(s.io, [&] {
            s.server->set_tls(
                net::make_tls_server_context_from_pem(new_leaf.cert_pem, new_leaf.key_pem)
            );
            renewed.set_value();
        });
        renewed.get_future().wait();
        tls_client after(s.port);
        CHECK(X509_cmp(after.peer_certificate().get(), new_leaf.cert.get()) == 0);
        CHECK(X509_cmp(before.peer_certificate().get(), old_leaf.cert.get()) == 0);
        before.send(get("/old"));
        CHECK(before.read_response().result_int() == 200);
        after.send(get("/new"));
        CHECK(after.read_response().result_int() == 200);
    }

    TEST_CASE("TLS: a client leaving with or without close_notify frees its connection")
    {
        running_server s(tls_options(leaf_a()));
        {
            tls_client polite(s.port);
            polite.send(get("/bye"));
            CHECK(polite.read_response().result_int() == 200);
            boost::system::error_code ignored;
            polite.stream.shutdown(ignored); // close_notify, then the server's
        }
        {
            tls_client abrupt(s.port);
            abrupt.send(get("/gone"));
            CHECK(abrupt.read_response().result_int() == 200);
        } // TCP closed without close_notify
        CHECK(eventually(s, [](const auto& st) {
            return st.open_connections == 0 && st.requests == 2;
        }));
        const auto stats = s.stats();
        CHECK(stats.bad_requests == 0);
        CHECK(stats.tls_failures == 0);
    }
}

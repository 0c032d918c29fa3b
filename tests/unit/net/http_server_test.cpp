// The HTTP server against well-behaved and hostile clients: keep-alive, limits, slow clients,
// connection floods, TLS with a pinned certificate, graceful shutdown.
#include "net/http_server.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/errc.hpp"
#include "net/http_client.hpp"
#include "unit/net/server_fixture.hpp"
#include "unit/net/test_pki.hpp"

using namespace certfleet;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using test::running_server;

namespace {

// A blocking client socket, optionally from another loopback address (another "source").
struct raw_client
{
    raw_client(std::uint16_t port, const char* from = "127.0.0.1") : socket(shared_io())
    {
        socket.open(tcp::v4());
        socket.bind(tcp::endpoint(asio::ip::make_address(from), 0));
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    void send(std::string_view text)
    {
        asio::write(socket, asio::buffer(text.data(), text.size()));
    }
    // Everything until the peer closes, or until `deadline`.
    std::string read_until_closed(std::chrono::milliseconds deadline = 3000ms)
    {
        timeval tv{
            static_cast<time_t>(deadline.count() / 1000),
            static_cast<suseconds_t>((deadline.count() % 1000) * 1000)};
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string out;
        char buf[4096];
        for (;;) {
            const auto n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
            if (n <= 0) {
                return out;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
    // One response (headers and Content-Length body).
    std::string read_response()
    {
        std::string out;
        char c = 0;
        while (out.find("\r\n\r\n") == std::string::npos) {
            if (::recv(socket.native_handle(), &c, 1, 0) != 1) {
                return out;
            }
            out += c;
        }
        const auto at = out.find("Content-Length: ");
        std::size_t length = at == std::string::npos ? 0 : std::stoul(out.substr(at + 16));
        std::string body(length, '\0');
        if (length > 0) {
            asio::read(socket, asio::buffer(body.data(), body.size()));
        }
        return out + body;
    }
    // One context for every client: a context per client would cost file descriptors of its own.
    static asio::io_context& shared_io()
    {
        static asio::io_context io;
        return io;
    }
    tcp::socket socket;
};

std::string request(std::string_view path, std::string_view extra = "")
{
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n" + std::string(extra) + "\r\n";
}

unsigned status_of(const std::string& response)
{
    return response.size() > 12 ? static_cast<unsigned>(std::stoul(response.substr(9, 3))) : 0;
}

std::string body_of(const std::string& response)
{
    const auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : response.substr(at + 4);
}

} // namespace

TEST_SUITE("http server")
{
    TEST_CASE("keep-alive: two requests on one connection, query decoded, peer reported")
    {
        running_server s;
        raw_client c(s.port);
        c.send(request("/a?q=hello%20world&x=1"));
        const auto first = c.read_response();
        CHECK(status_of(first) == 200);
        const auto j = nlohmann::json::parse(body_of(first));
        CHECK(j["path"] == "/a");
        CHECK(j["q"] == "hello world");
        CHECK(j["peer"] == "127.0.0.1");
        c.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        const auto second = c.read_response();
        CHECK(status_of(second) == 200);
        CHECK(nlohmann::json::parse(body_of(second))["body"] == "hello");
        CHECK(s.stats().requests == 2);
        CHECK(s.stats().connections_accepted == 1);
    }

    TEST_CASE("oversize header: 431, body declared too large: 413 before it is sent, garbage: 400")
    {
        net::http_server_options o;
        o.max_header_bytes = 1024;
        o.max_body_bytes = 100;
        running_server s(o);
        {
            raw_client c(s.port);
            c.send(request("/", "X-Big: " + std::string(4000, 'a') + "\r\n"));
            const auto r = c.read_until_closed();
            CHECK(status_of(r) == 431);
            CHECK(nlohmann::json::parse(body_of(r))["error"]["code"] == "header_too_large");
        }
        {
            raw_client c(s.port);
            c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
            const auto r = c.read_until_closed();
            CHECK(status_of(r) == 413);
            CHECK(nlohmann::json::parse(body_of(r))["error"]["code"] == "body_too_large");
        }
        {
            raw_client c(s.port);
            c.send("this is not HTTP\r\n\r\n");
            const auto r = c.read_until_closed();
            CHECK(status_of(r) == 400);
        }
        CHECK(s.stats().bad_requests == 3);
        // And it keeps serving.
        raw_client c(s.port);
        c.send(request("/after"));
        CHECK(status_of(c.read_response()) == 200);
    }

    TEST_CASE("a client trickling its request is cut off at read_timeout")
    {
        net::http_server_options o;
        o.read_timeout = 500ms;
        running_server s(o);
        raw_client c(s.port);
        const auto started = std::chrono::steady_clock::now();
        const std::string text = request("/slow-client");
        bool closed = false;
        for (const char ch : text) {
            boost::system::error_code ec;
            asio::write(c.socket, asio::buffer(&ch, 1), ec);
            if (ec) {
                closed = true;
                break;
            }
            std::this_thread::sleep_for(60ms);
        }
        const auto rest = c.read_until_closed(2000ms);
        CHECK(status_of(rest) == 0); // never answered
        CHECK(std::chrono::steady_clock::now() - started < 3s);
        CHECK((closed || rest.empty()));
        CHECK(s.stats().timeouts >= 1);
    }

    TEST_CASE("at the connection cap the oldest idle connection makes room")
    {
        net::http_server_options o;
        o.max_connections = 8;
        running_server s(o);
        std::vector<std::unique_ptr<raw_client>> idle;
        for (int i = 0; i < 8; ++i) {
            idle.push_back(std::make_unique<raw_client>(s.port));
        }
        std::this_thread::sleep_for(100ms);
        raw_client c(s.port);
        c.send(request("/fresh"));
        CHECK(status_of(c.read_response()) == 200);
        // The oldest idle connection was closed for it.
        CHECK(idle.front()->read_until_closed(1000ms).empty());
    }

    TEST_CASE("one source over its share gets 503 while other sources are served")
    {
        net::http_server_options o;
        o.max_connections_per_source = 4;
        running_server s(o);
        std::vector<std::unique_ptr<raw_client>> held;
        for (int i = 0; i < 4; ++i) {
            held.push_back(std::make_unique<raw_client>(s.port, "127.0.0.2"));
        }
        std::this_thread::sleep_for(100ms);
        raw_client over(s.port, "127.0.0.2");
        const auto refused = over.read_until_closed();
        CHECK(status_of(refused) == 503);
        CHECK(nlohmann::json::parse(body_of(refused))["error"]["code"] == "too_many_connections");
        raw_client other(s.port, "127.0.0.1");
        other.send(request("/other"));
        CHECK(status_of(other.read_response()) == 200);
        CHECK(s.stats().connections_refused == 1);
    }

    TEST_CASE("thousands of idle connections do not lock other clients out")
    {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        const std::size_t flood = limit.rlim_cur >= 8192 ? 3000 : (limit.rlim_cur - 200) / 2;
        net::http_server_options o;
        o.max_connections = 1024;
        o.max_connections_per_source = 100000;
        running_server s(o);
        std::vector<std::unique_ptr<raw_client>> idle;
        for (std::size_t i = 0; i < flood; ++i) {
            idle.push_back(std::make_unique<raw_client>(s.port, "127.0.0.3"));
        }
        std::this_thread::sleep_for(300ms);
        const auto started = std::chrono::steady_clock::now();
        raw_client c(s.port);
        c.send(request("/still-here"));
        CHECK(status_of(c.read_response()) == 200);
        CHECK(std::chrono::steady_clock::now() - started < 1s);
        CHECK(s.stats().open_connections <= 1024);
    }

    TEST_CASE("a handler that throws is a 500, and HEAD has the length and no body")
    {
        running_server s;
        raw_client c(s.port);
        c.send(request("/throw"));
        const auto failed = c.read_response();
        CHECK(status_of(failed) == 500);
        CHECK(failed.find("handler failed") == std::string::npos);
        c.send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n");
        std::string head;
        char ch = 0;
        while (head.find("\r\n\r\n") == std::string::npos &&
               ::recv(c.socket.native_handle(), &ch, 1, 0) == 1) {
            head += ch;
        }
        CHECK(status_of(head) == 200);
        CHECK(head.find("Content-Length: ") != std::string::npos);
        c.send(request("/next"));
        const auto next = c.read_response();
        CHECK(status_of(next) == 200); // no stray body bytes in between
    }

    TEST_CASE("graceful shutdown: a request in flight completes, new connections are refused")
    {
        running_server s;
        std::string slow_response;
        std::thread client_thread([&] {
            raw_client c(s.port);
            c.send(request("/slow"));
            slow_response = c.read_until_closed();
        });
        std::this_thread::sleep_for(100ms); // the request is in its handler now
        std::promise<void> finished;
        asio::post(s.io, [&] {
            asio::co_spawn(s.io, s.server->shutdown(2000ms), [&](std::exception_ptr) {
                finished.set_value();
            });
        });
        CHECK(finished.get_future().wait_for(3s) == std::future_status::ready);
        client_thread.join();
        CHECK(status_of(slow_response) == 200);
        const auto port = s.port;
        boost::system::error_code ec;
        asio::io_context other;
        tcp::socket late(other);
        late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
        CHECK(ec);
    }

    TEST_CASE("TLS: a client pinning the certificate SHA-256 connects, another pin is refused")
    {
        const auto ca = test::pki_issue("pin test", nullptr);
        const auto leaf = test::pki_issue("127.0.0.1", &ca, "IP:127.0.0.1");
        net::http_server_options o;
        o.tls = net::make_tls_server_context_from_pem(leaf.cert_pem, leaf.key_pem);
        running_server s(o);
        unsigned char digest[32];
        unsigned size = 0;
        X509_digest(leaf.cert.get(), EVP_sha256(), digest, &size);
        std::string pin;
        for (unsigned i = 0; i < size; ++i) {
            char hex[3];
            std::snprintf(hex, sizeof hex, "%02X", digest[i]);
            pin += std::string(hex) + (i + 1 < size ? ":" : "");
        }
        auto fetch = [&](const std::string& with_pin) {
            asio::io_context io;
            net::http_client_options co;
            co.pinned_sha256 = with_pin;
            net::http_client client(io.get_executor(), co);
            std::optional<boost::system::result<net::http_response>> out;
            net::http_request r;
            r.url = "https://127.0.0.1:" + std::to_string(s.port) + "/pinned";
            asio::co_spawn(
                io, client.request(r),
                [&](std::exception_ptr, boost::system::result<net::http_response> v) {
                    out = std::move(v);
                }
            );
            io.run_for(5s);
            REQUIRE(out.has_value());
            return std::move(*out);
        };
        auto good = fetch(pin);
        REQUIRE(good.has_value());
        CHECK(good.value().status == 200);
        CHECK(nlohmann::json::parse(good.value().body)["tls"] == true);
        auto bad = fetch(std::string(64, 'a'));
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error() == net::errc::certificate_verification_failed);
    }
}

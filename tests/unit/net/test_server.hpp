#pragma once
// An in-process HTTP/1.1 server for the client tests: Beast on 127.0.0.1, port 0, plain or
// TLS, running on the test's io_context. Each test scripts how it misbehaves (answers late,
// never answers, closes kept-alive connections, drops chosen requests) and inspects what it
// received. run() drives the io_context until the test coroutine finishes.

#include <doctest/doctest.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace certfleet::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using server_request = http::request<http::string_body>;
using server_response = http::response<http::string_body>;

class test_server
{
public:
    // nth_on_connection and nth_overall count from 1.
    using drop_rule = std::function<bool(std::size_t nth_on_connection, std::size_t nth_overall)>;

    explicit test_server(asio::io_context& io, asio::ssl::context* tls = nullptr)
        : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), tls_(tls)
    {
        asio::co_spawn(io_, accept_loop(), asio::detached);
    }

    [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    [[nodiscard]] std::string url(std::string_view path, std::string_view host = "127.0.0.1") const
    {
        return std::string(tls_ != nullptr ? "https://" : "http://") + std::string(host) + ":" +
               std::to_string(port()) + std::string(path);
    }

    // Fills the response (status 200, keep-alive as requested, empty body before the call);
    // Content-Length is computed from the body unless set here or the body is chunked.
    std::function<void(const server_request&, server_response&)> on_request =
        [](const server_request&, server_response& res) { res.body() = "ok"; };
    drop_rule drop = [](std::size_t, std::size_t) { return false; };
    bool silent = false;               // accept, never read, never write
    bool never_answer = false;         // read requests, never answer
    bool close_after_response = false; // answer with keep-alive, then close anyway
    std::chrono::milliseconds response_delay{0};
    std::optional<std::string> raw_response; // sent verbatim instead of on_request's response

    std::size_t accepted = 0;
    std::vector<server_request> requests;
    std::vector<std::string> server_names; // SNI of each TLS handshake ("" when none)

private:
    asio::awaitable<void> accept_loop()
    {
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
            if (ec) {
                co_return;
            }
            ++accepted;
            asio::co_spawn(io_, session(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> session(asio::ip::tcp::socket socket)
    {
        if (silent) {
            std::array<char, 512> sink{};
            for (;;) {
                auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_tuple);
                if (ec) {
                    co_return;
                }
            }
        }
        if (tls_ == nullptr) {
            co_await serve(socket);
            co_return;
        }
        beast::ssl_stream<asio::ip::tcp::socket> stream(std::move(socket), *tls_);
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
        if (ec) {
            co_return;
        }
        const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
        server_names.emplace_back(name == nullptr ? "" : name);
        co_await serve(stream);
    }

    template <class Stream> asio::awaitable<void> serve(Stream& stream)
    {
        beast::flat_buffer buffer;
        std::size_t on_connection = 0;
        for (;;) {
            server_request req;
            auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
            if (ec) {
                co_return;
            }
            requests.push_back(req);
            if (never_answer) {
                continue;
            }
            if (drop(++on_connection, requests.size())) {
                co_return; // closes the connection without a byte of response
            }
            if (raw_response) {
                auto [raw_ec, raw_n] =
                    co_await asio::async_write(stream, asio::buffer(*raw_response), use_tuple);
                if (raw_ec || close_after_response) {
                    co_return;
                }
                continue;
            }
            server_response res{http::status::ok, 11};
            res.keep_alive(req.keep_alive());
            on_request(req, res);
            if (!res.chunked() && !res.has_content_length()) {
                res.prepare_payload();
            }
            if (response_delay.count() > 0) {
                asio::steady_timer timer(io_, response_delay);
                co_await timer.async_wait(use_tuple);
            }
            auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
            if (write_ec || close_after_response || !res.keep_alive()) {
                co_return;
            }
        }
    }

    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    asio::ssl::context* tls_;
};

// Runs body on io until it finishes (at most 10 s), then rethrows what it threw.
template <class Body> void run(asio::io_context& io, Body body)
{
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
        failure = e;
        done = true;
        io.stop();
    });
    io.run_for(std::chrono::seconds(10));
    REQUIRE_MESSAGE(done, "the test coroutine did not finish within 10 s");
    if (failure) {
        std::rethrow_exception(failure);
    }
}

} // namespace certfleet::test

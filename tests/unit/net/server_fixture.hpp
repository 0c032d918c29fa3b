#pragma once
// The HTTP server under test: an echo handler and a server on 127.0.0.1 (port 0) running on its
// own thread, shared by the plain and the TLS server tests.

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>

#include "net/http_server.hpp"

namespace certfleet::test {

namespace fixture_detail {
namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// Echoes what it received as JSON; "/slow" answers after 300 ms, "/throw" throws.
inline asio::awaitable<net::server_response> echo(net::server_request r)
{
    if (r.path == "/slow") {
        asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
        co_await t.async_wait(asio::use_awaitable);
    }
    if (r.path == "/throw") {
        throw std::runtime_error("handler failed");
    }
    net::server_response out;
    out.body = nlohmann::json{
        {"method", r.method_text},
        {"path", r.path},
        {"q", r.query_parameter("q").value_or("-")},
        {"body", r.body},
        {"peer", r.peer.to_string()},
        {"tls",
         r.tls}}.dump();
    co_return out;
}

// A server on 127.0.0.1, port 0, on its own thread.
struct running_server
{
    explicit running_server(net::http_server_options options = {})
    {
        if (options.listen.empty()) {
            options.listen = {tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
        }
        server = std::make_unique<net::http_server>(io.get_executor(), options, echo);
        REQUIRE_FALSE(server->start());
        port = server->local_endpoints().front().port();
        thread = std::thread([this] { io.run(); });
    }
    ~running_server()
    {
        asio::post(io, [this] { server->stop(); });
        work.reset();
        io.stop();
        thread.join();
    }
    net::http_server_stats stats()
    {
        std::promise<net::http_server_stats> p;
        asio::post(io, [&] { p.set_value(server->stats()); });
        return p.get_future().get();
    }

    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{
        io.get_executor()};
    std::unique_ptr<net::http_server> server;
    std::uint16_t port = 0;
    std::thread thread;
};

} // namespace fixture_detail

using fixture_detail::echo;
using fixture_detail::running_server;

} // namespace certfleet::test

#include "net/connection.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "net/errc.hpp"
#include "net/tls_context.hpp"

namespace certfleet::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string endpoint_text(const url& target)
{
    return (target.host.find(':') == std::string::npos ? target.host : "[" + target.host + "]") +
           ":" + std::to_string(target.port);
}

std::string millis(std::chrono::milliseconds d)
{
    return std::to_string(d.count()) + " ms";
}

// getaddrinfo cannot be interrupted: on timeout the lookup is abandoned, not awaited. Its
// completion handler keeps the shared state alive until it runs.
struct resolve_state
{
    explicit resolve_state(const asio::any_io_executor& executor)
        : resolver(executor), done(executor)
    {}

    tcp::resolver resolver;
    asio::steady_timer done;
    error_code ec;
    tcp::resolver::results_type results;
    bool finished = false;
};

asio::awaitable<boost::system::result<std::vector<tcp::endpoint>, http_error>> resolve(
    asio::any_io_executor executor,
    url target,
    std::chrono::steady_clock::time_point deadline,
    std::chrono::milliseconds timeout
)
{
    error_code ec;
    const auto address = asio::ip::make_address(target.host, ec);
    if (!ec) {
        co_return std::vector<tcp::endpoint>{tcp::endpoint(address, target.port)};
    }

    auto state = std::make_shared<resolve_state>(executor);
    state->done.expires_at(deadline);
    state->resolver.async_resolve(
        target.host, std::to_string(target.port),
        [state](error_code resolved, tcp::resolver::results_type results) {
            state->ec = resolved;
            state->results = std::move(results);
            state->finished = true;
            state->done.cancel();
        }
    );
    co_await state->done.async_wait(use_tuple);
    if (!state->finished) {
        state->resolver.cancel();
        co_return http_error{
            errc::timeout,
            {},
            "resolving " + target.host + " did not complete within " + millis(timeout)};
    }
    if (state->ec) {
        co_return http_error{errc::resolve_failed, state->ec, target.host};
    }
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : state->results) {
        endpoints.push_back(entry.endpoint());
    }
    if (endpoints.empty()) {
        co_return http_error{errc::resolve_failed, {}, target.host + " has no address"};
    }
    co_return endpoints;
}

bool is_closed_error(const error_code& ec) noexcept
{
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == asio::error::eof || ec == asio::error::connection_reset ||
           ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
           ec == asio::error::not_connected || ec == asio::ssl::error::stream_truncated;
}

http_error exchange_error(const error_code& ec, const exchange_limits& limits)
{
    if (ec == beast::error::timeout) {
        return {errc::timeout, ec, "no complete response within " + millis(limits.timeout)};
    }
    if (ec == http::error::body_limit) {
        return {
            errc::body_too_large, ec,
            "limit is " + std::to_string(limits.max_body_bytes) + " bytes"};
    }
    if (ec == http::error::header_limit) {
        return {
            errc::header_too_large, ec,
            "limit is " + std::to_string(limits.max_header_bytes) + " bytes"};
    }
    if (is_closed_error(ec)) {
        return {errc::connection_closed, ec, {}};
    }
    if (ec.category() == make_error_code(http::error::bad_version).category()) {
        return {errc::bad_response, ec, {}};
    }
    return {errc::io_error, ec, {}};
}

} // namespace

connection::connection(asio::any_io_executor executor, asio::ssl::context* tls)
    : stream_(
          tls == nullptr ? decltype(stream_)(std::in_place_type<tcp_stream>, executor)
                         : decltype(stream_)(std::in_place_type<tls_stream>, executor, *tls)
      )
{}

connection::tcp_stream& connection::tcp() noexcept
{
    if (auto* tls = std::get_if<tls_stream>(&stream_)) {
        return beast::get_lowest_layer(*tls);
    }
    return *std::get_if<tcp_stream>(&stream_);
}

asio::awaitable<boost::system::result<std::unique_ptr<connection>, http_error>> connection::open(
    asio::any_io_executor executor,
    url target,
    asio::ssl::context* tls,
    std::chrono::milliseconds timeout
)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto endpoints = co_await resolve(executor, target, deadline, timeout);
    if (!endpoints) {
        co_return endpoints.error();
    }

    auto conn = std::make_unique<connection>(executor, tls);
    auto& stream = conn->tcp();
    stream.expires_at(deadline);
    auto [connect_ec, peer] = co_await stream.async_connect(*endpoints, use_tuple);
    if (connect_ec == beast::error::timeout) {
        co_return http_error{
            errc::timeout, connect_ec,
            "connecting to " + endpoint_text(target) + " did not complete within " +
                millis(timeout)};
    }
    if (connect_ec == asio::error::connection_refused) {
        co_return http_error{errc::connection_refused, connect_ec, endpoint_text(target)};
    }
    if (connect_ec) {
        co_return http_error{errc::connect_failed, connect_ec, endpoint_text(target)};
    }
    error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);

    if (auto* tls_s = std::get_if<tls_stream>(&conn->stream_)) {
        if (const auto ec = prepare_tls_stream(tls_s->native_handle(), target)) {
            co_return http_error{errc::tls_handshake_failed, ec, "cannot set the peer's identity"};
        }
        auto [ec] = co_await tls_s->async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (ec == beast::error::timeout) {
            co_return http_error{
                errc::timeout, ec,
                "TLS handshake with " + endpoint_text(target) + " did not complete within " +
                    millis(timeout)};
        }
        if (ec) {
            auto reason = verify_failure(tls_s->native_handle());
            if (!reason.empty()) {
                co_return http_error{
                    errc::certificate_verification_failed, ec,
                    reason + " (" + endpoint_text(target) + ")"};
            }
            co_return http_error{errc::tls_handshake_failed, ec, endpoint_text(target)};
        }
    }
    stream.expires_never();
    co_return conn;
}

asio::awaitable<exchange_outcome>
connection::exchange(std::shared_ptr<const request_message> request, exchange_limits limits)
{
    exchange_outcome out;
    tcp().expires_after(limits.timeout);

    // The awaitables are created outside the co_await expressions: GCC 12 mishandles
    // temporaries (here the visiting lambdas) that live across a suspension.
    auto write =
        std::visit([&](auto& s) { return http::async_write(s, *request, use_tuple); }, stream_);
    auto [write_ec, written] = co_await std::move(write);
    if (write_ec) {
        out.error = exchange_error(write_ec, limits);
        out.stale = is_closed_error(write_ec);
        co_return out;
    }

    bool received = false;
    for (;;) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(limits.max_body_bytes);
        parser.header_limit(limits.max_header_bytes);
        parser.skip(limits.head);
        auto read = std::visit(
            [&](auto& s) { return http::async_read(s, buffer_, parser, use_tuple); }, stream_
        );
        auto [read_ec, read_bytes] = co_await std::move(read);
        received = received || parser.got_some() || buffer_.size() != 0;
        if (read_ec) {
            out.error = exchange_error(read_ec, limits);
            out.stale = !received && is_closed_error(read_ec);
            co_return out;
        }
        auto message = parser.release();
        const unsigned status = message.result_int();
        // Interim responses (RFC 9110 §15.2) precede the final one; 101 ends HTTP on this
        // connection, so it is returned as the final response and the connection dropped.
        if (status >= 100 && status < 200 && status != 101) {
            continue;
        }
        http_response response;
        response.status = status;
        for (const auto& field : message) {
            response.headers.emplace_back(
                std::string(field.name_string()), std::string(field.value())
            );
        }
        response.body = std::move(message.body());
        out.keep_alive = status != 101 && message.keep_alive() && request->keep_alive();
        out.response = std::move(response);
        break;
    }
    tcp().expires_never();
    co_return out;
}

bool connection::reusable() noexcept
{
    auto& socket = tcp().socket();
    if (!socket.is_open() || buffer_.size() != 0) {
        return false;
    }
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    // 0: the peer closed it; > 0: unsolicited bytes (a TLS alert, a stray response).
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace certfleet::net

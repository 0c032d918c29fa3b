#pragma once
// One HTTP/1.1 client connection, plain or TLS (internal to the net module).
//
// open() resolves, connects and, for https, performs the TLS handshake, all within one
// deadline (connect_timeout). exchange() writes one request and reads its response within
// another (request_timeout), enforcing the header and body limits; it reports whether the
// connection may carry another request and, on failure, whether it failed before any byte of
// the response arrived for a reason a stale kept-alive connection explains (the caller's retry
// rule, see http_client.hpp). A connection is used by one request at a time, from the thread
// running its executor. The ssl::context given to open() must outlive the connection.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <variant>

#include "net/http_client.hpp"
#include "net/http_error.hpp"
#include "net/url.hpp"

namespace certfleet::net {

using request_message = boost::beast::http::request<boost::beast::http::string_body>;

struct exchange_limits
{
    std::chrono::milliseconds timeout{30'000};
    std::uint64_t max_body_bytes = 0;
    std::uint32_t max_header_bytes = 0;
    bool head = false; // a HEAD request: the response has no body whatever its headers say
};

struct exchange_outcome
{
    std::optional<http_response> response; // set on success
    bool keep_alive = false;               // the connection may carry another request
    http_error error;                      // set on failure
    bool stale = false; // failed before any response byte, as a closed idle connection does
};

class connection
{
public:
    using tcp_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<tcp_stream>;

    // tls is null for http. Errors: resolve_failed, connection_refused, connect_failed, timeout,
    // tls_handshake_failed, certificate_verification_failed.
    [[nodiscard]] static boost::asio::awaitable<
        boost::system::result<std::unique_ptr<connection>, http_error>>
    open(
        boost::asio::any_io_executor executor,
        url target,
        boost::asio::ssl::context* tls,
        std::chrono::milliseconds timeout
    );

    // Errors: timeout, connection_closed, body_too_large, header_too_large, bad_response,
    // io_error.
    [[nodiscard]] boost::asio::awaitable<exchange_outcome>
    exchange(std::shared_ptr<const request_message> request, exchange_limits limits);

    // True when the idle connection is still open, the peer has neither closed it nor sent
    // anything unsolicited, and no bytes are left over: it may carry a new request.
    [[nodiscard]] bool reusable() noexcept;

    connection(boost::asio::any_io_executor executor, boost::asio::ssl::context* tls);

private:
    tcp_stream& tcp() noexcept;

    std::variant<tcp_stream, tls_stream> stream_;
    boost::beast::flat_buffer buffer_;
};

} // namespace certfleet::net

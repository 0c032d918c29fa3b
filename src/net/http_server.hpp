#pragma once
// An HTTP/1.1 server on Beast (RFC 9112), plain or TLS 1.2+, for the REST API, the acme-dns
// API and the agent endpoints. It serves; it does not route: every request that parses goes to
// one request_handler, which the app module builds from its route tables.
//
// Per connection: the TLS handshake within handshake_timeout; each request's header and body
// within read_timeout (a client trickling bytes is cut off when it elapses, not when it pauses);
// the next request of a kept-alive connection within idle_timeout; each response written
// within write_timeout. Limits: max_header_bytes (431), max_body_bytes (413, also for a
// declared Content-Length before any body byte is read), max_requests_per_connection.
// Connections: at max_connections a new one takes the place of the oldest idle connection (one
// waiting for a request: RFC 9112 9.8 lets a server close those at any time), so a flood of idle
// connections cannot lock clients out; when none is idle, or when its source address already
// holds max_connections_per_source, the new one gets 503 (plain HTTP; over TLS it is closed,
// as a refusal is not worth a handshake) while requests in flight go on. A malformed request gets
// 400 and the connection is closed. These answers are rendered by options.render_error, so each API
// keeps its own error format.
//
// Memory: over TLS a connection that waits (for a request, or for its handler, as a long-poll
// does) holds no read buffer and no TLS record buffers (lean_tls_stream.hpp).
//
// shutdown(grace): stops accepting at once, closes idle connections, lets requests in flight
// finish for up to `grace`, then closes the rest.
//
// Thread safety: one server runs on one executor (one thread); its handler runs there too.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_message.hpp"

namespace certfleet::net {

struct server_request
{
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string method_text;                                  // as sent, for unknown methods
    std::string target;                                       // as sent: "/api/v1/events?limit=10"
    std::string path;                                         // target before '?', not decoded
    std::string query;                                        // target after '?', not decoded
    std::vector<std::pair<std::string, std::string>> headers; // in the order received
    std::string body;
    boost::asio::ip::address peer; // the TCP peer (no proxy header is trusted here)
    bool tls = false;

    // The first header with this name (case-insensitive). Views into this request.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
    // The first query parameter with this name, percent-decoded ('+' as space); nullopt when
    // absent or when its encoding is broken.
    [[nodiscard]] std::optional<std::string> query_parameter(std::string_view name) const;
};

struct server_response
{
    unsigned status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// Handles one request. It may suspend (the request is kept alive until it completes); it must
// not throw (an exception becomes a 500 and is logged without the request's content).
using request_handler = std::function<boost::asio::awaitable<server_response>(server_request)>;

// Renders the server's own refusals: status 400, 408, 413, 431, 503 with a short stable code
// ("bad_request", "body_too_large", ...) and a message for humans.
using error_renderer = std::function<
    server_response(unsigned status, std::string_view code, std::string_view message)>;

// The default renderer: {"error": {"code": "...", "message": "..."}}.
[[nodiscard]] server_response
json_error_response(unsigned status, std::string_view code, std::string_view message);

struct http_server_options
{
    std::vector<boost::asio::ip::tcp::endpoint> listen; // IPv4 and IPv6; port 0: any free port
    std::shared_ptr<boost::asio::ssl::context> tls;     // null: plain HTTP
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_source = 256;
    std::uint32_t max_header_bytes = 16 * 1024;
    std::uint64_t max_body_bytes = 1024 * 1024;
    std::size_t max_requests_per_connection = 10'000;
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds read_timeout{10'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::string server_header = "certfleet";
    error_renderer render_error = json_error_response;
};

struct http_server_stats
{
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_refused = 0; // over max_connections
    std::uint64_t requests = 0;
    std::uint64_t bad_requests = 0; // malformed, oversize
    std::uint64_t timeouts = 0;
    std::uint64_t tls_failures = 0;
    std::size_t open_connections = 0;
};

// A server TLS context from PEM files: TLS 1.2 or later, the chain and its key. Throws
// std::runtime_error naming the file that cannot be used.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context>
make_tls_server_context(const std::string& chain_file, const std::string& key_file);

// The same from PEM text in memory (a key unsealed from the store). Throws std::runtime_error.
[[nodiscard]] std::shared_ptr<boost::asio::ssl::context>
make_tls_server_context_from_pem(std::string_view chain_pem, std::string_view key_pem);

class http_server
{
public:
    http_server(
        boost::asio::any_io_executor executor, http_server_options options, request_handler handler
    );
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and listens on every endpoint, then accepts. The first failure is returned (nothing
    // is left listening then): address_in_use, access_denied, ...
    [[nodiscard]] boost::system::error_code start();

    // The bound endpoints (with the ports chosen for port 0), in the order of options.listen.
    [[nodiscard]] std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;

    // Connections accepted from now on use this TLS context (a renewed certificate); open ones
    // keep theirs.
    void set_tls(std::shared_ptr<boost::asio::ssl::context> tls);

    [[nodiscard]] boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
    // Closes everything at once (destruction does the same).
    void stop();

    [[nodiscard]] http_server_stats stats() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace certfleet::net

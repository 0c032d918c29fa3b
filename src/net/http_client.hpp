#pragma once
// An HTTP/1.1 client for the ACME client and the deployment agent (RFC 9110, RFC 9112).
//
// request() sends one request to an absolute http or https URL and returns the final response,
// whatever its status: redirects are not followed (ACME never needs them), 3xx comes back as is.
// https verifies the server's chain against ca_file or the system roots and its identity
// against the URL's host (DNS SANs for a name, IP SANs for an IP literal); SNI is sent for
// names only. Every request carries Host and User-Agent (options.user_agent), and Content-Type
// when content_type is set; a header in req.headers replaces the default of the same name.
// Content-Length and Transfer-Encoding are computed here and refused in req.headers.
//
// Connections: each request takes an idle kept-alive connection to the same (scheme, host,
// port) if there is one, else opens its own, so concurrent requests proceed in parallel. A
// connection returns to the idle pool only after a complete response that allows keep-alive;
// at most max_idle_connections_per_host stay idle per origin (the oldest is closed), none longer
// than idle_timeout. Timeouts: connect_timeout bounds resolve + connect + TLS handshake;
// request_timeout bounds writing the request and reading the whole response.
//
// Retry rule: a request is retried at most once, on a freshly opened connection, and only when
// it went out on a reused idle connection that failed (EOF, reset, broken pipe, TLS truncation)
// before any byte of the response arrived: the server closed a kept-alive connection just as we
// reused it. This applies to every method, POST included: a request can only have been acted
// upon if the server read it, and a server that read it but closed without a single response
// byte is indistinguishable from the race above; for ACME, a replayed POST carries an already
// consumed nonce, so the server rejects it (badNonce, RFC 8555 §6.5) instead of acting twice.
// Timeouts, fresh connections and failures after a response byte are never retried.
//
// Errors: request() returns a net::errc (bad_url, bad_request, resolve_failed,
// connection_refused, connect_failed, timeout, tls_handshake_failed,
// certificate_verification_failed, connection_closed, body_too_large, header_too_large,
// bad_response, io_error); request_detailed() also keeps the underlying error and our context
// (http_error.hpp).
//
// Thread safety: an http_client and its requests run on one thread, the one running its
// executor (an io_context driven by one thread, or a strand); it is not safe to call it from
// several threads at once. It must be destroyed before its execution context. Destroying it
// while requests are in flight, or before awaiting an awaitable request() returned, is safe:
// they complete, and their connections are then closed.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_error.hpp"
#include "net/http_message.hpp"

namespace certfleet::net {

struct http_client_options
{
    std::string user_agent = "certfleet/0.1";
    std::optional<std::string> ca_file; // PEM bundle to trust instead of the system roots
    std::chrono::milliseconds connect_timeout{10'000}; // resolve + connect + TLS handshake
    std::chrono::milliseconds request_timeout{30'000}; // whole exchange after connect
    std::size_t max_body_bytes = std::size_t{4} * 1024 * 1024;
    std::size_t max_idle_connections_per_host = 8;
    bool verify_peer = true; // false only for tests against servers with throw-away certs
    // The SHA-256 (hex) of the server's certificate: trusted instead of any chain or name
    // check. For a server with a self-signed certificate whose fingerprint was handed over.
    std::optional<std::string> pinned_sha256;
    std::uint32_t max_header_bytes = 64 * 1024;     // status line and all header fields
    std::chrono::milliseconds idle_timeout{30'000}; // an older idle connection is closed
};

class http_client
{
public:
    // Throws std::runtime_error when ca_file (or the system roots) cannot be loaded, or when
    // user_agent contains CR, LF or NUL.
    http_client(boost::asio::any_io_executor executor, http_client_options options);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;
    // A moved-from client may only be destroyed or assigned to.
    http_client(http_client&& other) noexcept;
    http_client& operator=(http_client&& other) noexcept;

    [[nodiscard]] boost::asio::awaitable<boost::system::result<http_response>>
    request(http_request req);

    [[nodiscard]] boost::asio::awaitable<boost::system::result<http_response, http_error>>
    request_detailed(http_request req);

    // Idle connections across all origins, and connections established (TCP, and TLS for
    // https) since construction.
    [[nodiscard]] std::size_t idle_connections() const;
    [[nodiscard]] std::uint64_t connections_opened() const;

private:
    struct state;

    static boost::asio::awaitable<boost::system::result<http_response, http_error>>
    run_request(std::shared_ptr<state> st, http_request req);

    std::shared_ptr<state> state_;
};

} // namespace certfleet::net

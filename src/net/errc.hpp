#pragma once
// Errors of the net module: URLs, requests, connections, TLS and responses.
//
// The HTTP client reports every failure as one of these codes; the underlying Asio, Beast,
// OpenSSL or system error is kept beside it in net::http_error (see http_client.hpp).

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace certfleet::net {

enum class errc
{
    bad_url = 1,                     // not an absolute http(s) URL, or one we refuse to send
    bad_request,                     // a header name or value that cannot be sent as is
    resolve_failed,                  // the host name did not resolve
    connection_refused,              // nothing listens on the port (TCP RST on connect)
    connect_failed,                  // any other failure to establish the TCP connection
    timeout,                         // connect_timeout or request_timeout elapsed
    tls_handshake_failed,            // the TLS handshake failed for a reason other than trust
    certificate_verification_failed, // untrusted chain, expired, or name mismatch
    connection_closed,               // the peer closed or reset before a complete response
    body_too_large,                  // the response body exceeds max_body_bytes
    header_too_large,                // the response header exceeds max_header_bytes
    bad_response,                    // the response is not valid HTTP/1.x
    io_error,                        // another read or write failure
};

[[nodiscard]] const boost::system::error_category& net_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), net_category()};
}

} // namespace certfleet::net

template <> struct boost::system::is_error_code_enum<certfleet::net::errc> : std::true_type
{};

#pragma once
// One server-side TLS connection run by OpenSSL directly on a socket's file descriptor, for a
// server that holds thousands of idle connections. A boost::asio::ssl::stream keeps three
// record-sized buffers per connection (its two transfer buffers and the BIO pair between
// OpenSSL and the socket, about 51 KiB) for the connection's whole life; here OpenSSL reads and
// writes the socket itself (send with MSG_NOSIGNAL: a peer gone away is an EPIPE, never a
// SIGPIPE), and SSL_MODE_RELEASE_BUFFERS lets it drop its own record buffers
// whenever a call finds nothing left to read or to send, so an idle connection keeps only the
// SSL object.
//
// Contract: the caller owns the descriptor, makes it non-blocking, and stops using the session
// once it has closed the descriptor (its number may already name another socket). Every call
// returns at once; want_read / want_write mean: wait until the socket is readable / writable,
// then repeat the call with the same arguments (any call may want either: a TLS 1.3 key update
// makes a read write). Thread safety: none; one connection is driven by one thread at a time.

#include <openssl/types.h>

#include <boost/system/result.hpp>
#include <cstddef>
#include <memory>

namespace certfleet::core {

enum class tls_status
{
    done,       // the call completed; for read and write, `bytes` moved
    want_read,  // wait until readable, then repeat
    want_write, // wait until writable, then repeat
    closed,     // the peer sent close_notify (RFC 8446 section 6.1): no more data
    truncated,  // the transport ended without close_notify
    failed,     // a protocol or socket error; see ssl_error / system_error
};

struct tls_outcome
{
    tls_status status = tls_status::failed;
    std::size_t bytes = 0;       // done: the bytes read or written
    unsigned long ssl_error = 0; // failed: OpenSSL's first queued error (ERR_get_error), or 0
    int system_error = 0;        // failed: errno of the socket call that failed, or 0
};

class tls_socket_session
{
public:
    // A session that waits for a ClientHello on `fd`, with the certificate, key and protocol
    // settings of `context` (which it keeps a reference to: replacing the caller's context later
    // leaves this connection on the old one). crypto_failure when OpenSSL cannot allocate it.
    [[nodiscard]] static boost::system::result<tls_socket_session>
    accept(SSL_CTX* context, int fd) noexcept;

    // RFC 8446 section 4 (and 5246 section 7.3 for TLS 1.2): done once the handshake completed.
    [[nodiscard]] tls_outcome handshake() noexcept;
    // Up to `size` bytes of application data into `data` (size 0 completes with 0 bytes).
    [[nodiscard]] tls_outcome read(void* data, std::size_t size) noexcept;
    // At least one byte of `data`, at most one record's worth may stay unsent after `bytes`.
    [[nodiscard]] tls_outcome write(const void* data, std::size_t size) noexcept;
    // Sends close_notify, then waits for the peer's (done when both are through; the caller may
    // give up waiting and close the socket at any time).
    [[nodiscard]] tls_outcome shutdown() noexcept;
    // Bytes OpenSSL already took from the socket and the caller has not read: a read may
    // complete without the socket becoming readable again.
    [[nodiscard]] bool has_buffered_data() const noexcept;

private:
    struct ssl_deleter
    {
        void operator()(SSL* ssl) const noexcept;
    };
    explicit tls_socket_session(SSL* ssl) noexcept : ssl_(ssl) {}
    [[nodiscard]] tls_outcome outcome(int ok, std::size_t bytes) noexcept;

    std::unique_ptr<SSL, ssl_deleter> ssl_;
};

} // namespace certfleet::core

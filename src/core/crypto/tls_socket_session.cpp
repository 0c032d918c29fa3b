#include "core/crypto/tls_socket_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {

void tls_socket_session::ssl_deleter::operator()(SSL* ssl) const noexcept
{
    // The descriptor is the caller's: SSL_set_fd's socket BIO does not close it.
    SSL_free(ssl);
}

boost::system::result<tls_socket_session>
tls_socket_session::accept(SSL_CTX* context, int fd) noexcept
{
    const detail::error_queue_guard guard;
    if (context == nullptr || fd < 0) {
        return errc::invalid_argument;
    }
    tls_socket_session session{SSL_new(context)};
    if (!session.ssl_ || SSL_set_fd(session.ssl_.get(), fd) != 1) {
        return errc::crypto_failure;
    }
    // Partial writes let a write complete after one record, as an AsyncWriteStream's
    // write_some may; a moving buffer lets a repeated write come from another copy of the same
    // bytes; released buffers are the point of this class.
    SSL_set_mode(
        session.ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                SSL_MODE_RELEASE_BUFFERS
    );
    SSL_set_accept_state(session.ssl_.get());
    return session;
}

tls_outcome tls_socket_session::outcome(int ok, std::size_t bytes) noexcept
{
    // errno first: the calls below may change it.
    const int system_error = errno;
    if (ok == 1) {
        return {tls_status::done, bytes, 0, 0};
    }
    switch (SSL_get_error(ssl_.get(), ok)) {
    case SSL_ERROR_WANT_READ:
        return {tls_status::want_read, 0, 0, 0};
    case SSL_ERROR_WANT_WRITE:
        return {tls_status::want_write, 0, 0, 0};
    case SSL_ERROR_ZERO_RETURN:
        return {tls_status::closed, 0, 0, 0};
    case SSL_ERROR_SYSCALL:
        // Without a queued error and errno, the socket reached its end mid-record.
        if (ERR_peek_error() == 0 && system_error == 0) {
            return {tls_status::truncated, 0, 0, 0};
        }
        return {tls_status::failed, 0, ERR_get_error(), system_error};
    case SSL_ERROR_SSL:
        if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            return {tls_status::truncated, 0, 0, 0};
        }
        return {tls_status::failed, 0, ERR_get_error(), 0};
    default:
        return {tls_status::failed, 0, ERR_get_error(), 0};
    }
}

tls_outcome tls_socket_session::handshake() noexcept
{
    // SSL_get_error reads the thread's error queue: it must hold only this call's errors.
    ERR_clear_error();
    const detail::error_queue_guard guard;
    errno = 0;
    return outcome(SSL_do_handshake(ssl_.get()), 0);
}

tls_outcome tls_socket_session::read(void* data, std::size_t size) noexcept
{
    if (size == 0) {
        return {tls_status::done, 0, 0, 0};
    }
    ERR_clear_error();
    const detail::error_queue_guard guard;
    errno = 0;
    std::size_t n = 0;
    const int ok = SSL_read_ex(ssl_.get(), data, size, &n);
    return outcome(ok, n);
}

tls_outcome tls_socket_session::write(const void* data, std::size_t size) noexcept
{
    if (size == 0) {
        return {tls_status::done, 0, 0, 0};
    }
    ERR_clear_error();
    const detail::error_queue_guard guard;
    errno = 0;
    std::size_t n = 0;
    const int ok = SSL_write_ex(ssl_.get(), data, size, &n);
    return outcome(ok, n);
}

tls_outcome tls_socket_session::shutdown() noexcept
{
    ERR_clear_error();
    const detail::error_queue_guard guard;
    errno = 0;
    int result = SSL_shutdown(ssl_.get());
    if (result == 0) {
        // close_notify is out; the second call reads the peer's (or says to wait for it).
        errno = 0;
        result = SSL_shutdown(ssl_.get());
    }
    return outcome(result == 1 ? 1 : -1, 0);
}

bool tls_socket_session::has_buffered_data() const noexcept
{
    // SSL_has_pending, not SSL_pending: a whole record read but not yet decrypted counts too.
    return SSL_has_pending(ssl_.get()) == 1;
}

} // namespace certfleet::core

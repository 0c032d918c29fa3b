#include "core/crypto/tls_socket_session.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

// OpenSSL's socket BIO writes with write(2): a peer gone away raises SIGPIPE, which ends a
// process that does not ignore it (Asio sends with MSG_NOSIGNAL, so the server never had to).
// This BIO is the socket BIO with send(MSG_NOSIGNAL) and recv.
int descriptor(BIO* bio) noexcept
{
    return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
}

bool would_block(int error) noexcept
{
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

int socket_write(BIO* bio, const char* data, int size) noexcept
{
    BIO_clear_retry_flags(bio);
    const auto n = ::send(descriptor(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (n < 0 && would_block(errno)) {
        BIO_set_retry_write(bio);
    }
    return static_cast<int>(n);
}

int socket_read(BIO* bio, char* data, int size) noexcept
{
    BIO_clear_retry_flags(bio);
    const auto n = ::recv(descriptor(bio), data, static_cast<std::size_t>(size), 0);
    if (n < 0 && would_block(errno)) {
        BIO_set_retry_read(bio);
    } else if (n == 0) {
        BIO_set_flags(bio, BIO_FLAGS_IN_EOF); // BIO_eof: the peer's end, told from an error
    }
    return static_cast<int>(n);
}

long socket_ctrl(BIO* bio, int command, long /*number*/, void* /*pointer*/) noexcept
{
    switch (command) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    case BIO_C_GET_FD:
        return descriptor(bio);
    default:
        return 0;
    }
}

const BIO_METHOD* nosignal_socket_method() noexcept
{
    // Made once (thread-safe static initialisation) and kept for the life of the process.
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(
            BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "certfleet socket"
        );
        if (m != nullptr &&
            (BIO_meth_set_write(m, socket_write) != 1 || BIO_meth_set_read(m, socket_read) != 1 ||
             BIO_meth_set_ctrl(m, socket_ctrl) != 1)) {
            BIO_meth_free(m);
            m = nullptr;
        }
        return m;
    }();
    return method;
}

} // namespace

void tls_socket_session::ssl_deleter::operator()(SSL* ssl) const noexcept
{
    // The descriptor is the caller's: our BIO has no destroy function and never closes it.
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
    const auto* method = nosignal_socket_method();
    if (!session.ssl_ || method == nullptr) {
        return errc::crypto_failure;
    }
    BIO* bio = BIO_new(method);
    if (bio == nullptr) {
        return errc::crypto_failure;
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    BIO_set_init(bio, 1);
    SSL_set_bio(session.ssl_.get(), bio, bio); // one reference, owned by the SSL object
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

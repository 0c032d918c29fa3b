#include "net/lean_tls_stream.hpp"

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

namespace certfleet::net {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

lean_tls_stream::shared_state::shared_state(tcp::socket s)
    : socket(std::move(s)), timer(socket.get_executor())
{}

lean_tls_stream::lean_tls_stream(tcp::socket socket, asio::ssl::context& context)
    : shared_(std::make_shared<shared_state>(std::move(socket)))
{
    // OpenSSL's own reads and writes must return EAGAIN, not block the server's thread.
    shared_->socket.non_blocking(true, open_error_);
    if (open_error_) {
        return;
    }
    auto session =
        core::tls_socket_session::accept(context.native_handle(), shared_->socket.native_handle());
    if (session) {
        session_.emplace(std::move(*session));
    } else {
        open_error_ = session.error();
    }
}

lean_tls_stream::~lean_tls_stream()
{
    // The session first: it must not outlive its descriptor.
    session_.reset();
    close();
}

lean_tls_stream::executor_type lean_tls_stream::get_executor() const noexcept
{
    return shared_->socket.get_executor();
}

void lean_tls_stream::expires_after(std::chrono::steady_clock::duration d)
{
    auto& timer = shared_->timer;
    timer.expires_after(d);
    timer.async_wait([weak = std::weak_ptr<shared_state>(shared_)](error_code ec) {
        const auto shared = weak.lock();
        // A re-armed deadline cancels this wait, or (when it had already fired) moved the
        // expiry into the future.
        if (ec || !shared || shared->timer.expiry() > std::chrono::steady_clock::now()) {
            return;
        }
        shared->timed_out = true;
        error_code ignored;
        shared->socket.shutdown(tcp::socket::shutdown_both, ignored);
        shared->socket.close(ignored);
    });
}

void lean_tls_stream::expires_never()
{
    shared_->timer.expires_at(asio::steady_timer::time_point::max());
}

void lean_tls_stream::close()
{
    error_code ignored;
    shared_->timer.cancel();
    if (shared_->socket.is_open()) {
        shared_->socket.shutdown(tcp::socket::shutdown_both, ignored);
        shared_->socket.close(ignored);
    }
}

error_code lean_tls_stream::unusable() const
{
    if (open_error_) {
        return open_error_;
    }
    if (shared_->timed_out) {
        return boost::beast::error::timeout;
    }
    if (!shared_->socket.is_open() || !session_) {
        return asio::error::bad_descriptor;
    }
    return {};
}

error_code lean_tls_stream::wait_error(error_code ec) const
{
    if (ec == asio::error::operation_aborted && shared_->timed_out) {
        return boost::beast::error::timeout;
    }
    return ec;
}

error_code lean_tls_stream::to_error(const core::tls_outcome& o) const
{
    switch (o.status) {
    case core::tls_status::done:
        return {};
    case core::tls_status::closed:
        return asio::error::eof;
    case core::tls_status::truncated:
        return asio::ssl::error::stream_truncated;
    default:
        break;
    }
    if (o.system_error != 0) {
        return {o.system_error, boost::system::system_category()};
    }
    if (o.ssl_error != 0) {
        return {static_cast<int>(o.ssl_error), asio::error::get_ssl_category()};
    }
    return asio::ssl::error::unspecified_system_error;
}

asio::mutable_buffer lean_tls_stream::scratch_area() noexcept
{
    // One record's worth per thread, used only within one synchronous SSL_write.
    thread_local std::array<char, record_size> scratch{};
    return asio::buffer(scratch);
}

} // namespace certfleet::net

#pragma once
// The server side of a TLS connection as a Beast AsyncStream (async_read_some, async_write_some)
// that costs little while it waits: OpenSSL works on the socket itself
// (core::tls_socket_session) and a read that finds no data waits for the socket to become
// readable without holding a record buffer. A connection waiting for its next request keeps the
// SSL object with its keys and this stream, about 10 KiB, where a boost::asio::ssl::stream
// keeps about 60 KiB more (bench/agents: 85 KiB per held long-poll before, 24 KiB after).
//
// Timeouts as beast::tcp_stream's: expires_after(d) arms one deadline for whatever operations
// run until it is re-armed or disarmed (expires_never); when it passes, the socket is closed and
// the pending operation, like every later one, completes with beast::error::timeout.
// Errors: asio::error::eof after the peer's close_notify, ssl::error::stream_truncated when the
// transport ended without it, ssl-category codes for protocol failures, errno codes for the
// socket; bad_descriptor once close() was called.
// Completion: never inside the initiating call (a result ready at once is posted).
// Thread safety: none; one stream lives on one executor. The stream must not move while an
// operation is pending.

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/crypto/tls_socket_session.hpp"

namespace certfleet::net {

class lean_tls_stream
{
public:
    using executor_type = boost::asio::any_io_executor;

    // Takes a connected socket and makes it non-blocking. The context's settings apply to this
    // connection from the handshake on (the context may be replaced afterwards).
    lean_tls_stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& context);
    ~lean_tls_stream();
    lean_tls_stream(const lean_tls_stream&) = delete;
    lean_tls_stream& operator=(const lean_tls_stream&) = delete;
    lean_tls_stream(lean_tls_stream&&) = delete;
    lean_tls_stream& operator=(lean_tls_stream&&) = delete;

    [[nodiscard]] executor_type get_executor() const noexcept;
    [[nodiscard]] boost::asio::ip::tcp::socket& socket() noexcept { return shared_->socket; }

    void expires_after(std::chrono::steady_clock::duration d);
    void expires_never();
    // Shuts the socket down and closes it; pending operations complete with operation_aborted.
    void close();

    // The server's handshake: void(error_code).
    template <class Token> auto async_handshake(Token&& token)
    {
        return start<false>(
            [](core::tls_socket_session& s, const auto&) { return s.handshake(); }, nullptr,
            std::forward<Token>(token)
        );
    }
    // Sends close_notify and waits for the peer's: void(error_code).
    template <class Token> auto async_shutdown(Token&& token)
    {
        return start<false>(
            [](core::tls_socket_session& s, const auto&) { return s.shutdown(); }, nullptr,
            std::forward<Token>(token)
        );
    }
    // Completes when a read would find data (or the end): decrypted bytes already buffered, or a
    // readable socket. Holds no buffer while it waits: void(error_code).
    template <class Token> auto async_wait_readable(Token&& token)
    {
        return start<false>(
            [](core::tls_socket_session& s, const auto&) {
                return core::tls_outcome{
                    s.has_buffered_data() ? core::tls_status::done : core::tls_status::want_read};
            },
            nullptr, std::forward<Token>(token), true
        );
    }
    // AsyncReadStream: into the first non-empty buffer: void(error_code, std::size_t).
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return start<true>(
            [](core::tls_socket_session& s, const boost::asio::mutable_buffer& b) {
                return s.read(b.data(), b.size());
            },
            first_buffer(buffers), std::forward<Token>(token)
        );
    }
    // AsyncWriteStream: at most one record's worth, gathered from the buffers:
    // void(error_code, std::size_t).
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return start<true>(
            [](core::tls_socket_session& s, const ConstBuffers& b) {
                const auto data = gather(b);
                return s.write(data.data(), data.size());
            },
            buffers, std::forward<Token>(token)
        );
    }

private:
    // What the deadline's handler may touch after the stream is gone: it holds a weak_ptr.
    struct shared_state
    {
        explicit shared_state(boost::asio::ip::tcp::socket s);
        boost::asio::ip::tcp::socket socket;
        boost::asio::steady_timer timer;
        bool timed_out = false;
    };

    template <class Buffers> static boost::asio::mutable_buffer first_buffer(const Buffers& b)
    {
        for (auto it = boost::asio::buffer_sequence_begin(b);
             it != boost::asio::buffer_sequence_end(b); ++it) {
            if (boost::asio::mutable_buffer m(*it); m.size() > 0) {
                return m;
            }
        }
        return {};
    }
    // The first buffer when it alone fills a record or is the only one; otherwise up to one
    // record copied into a per-thread scratch area (a repeated write copies the same bytes
    // again, which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER allows).
    template <class Buffers> static boost::asio::const_buffer gather(const Buffers& b)
    {
        auto it = boost::asio::buffer_sequence_begin(b);
        const auto end = boost::asio::buffer_sequence_end(b);
        while (it != end && boost::asio::const_buffer(*it).size() == 0) {
            ++it;
        }
        if (it == end) {
            return {};
        }
        const boost::asio::const_buffer first(*it);
        if (first.size() >= record_size || std::next(it) == end) {
            return first;
        }
        auto scratch = scratch_area();
        return {scratch.data(), boost::asio::buffer_copy(scratch, b)};
    }
    static constexpr std::size_t record_size = 16 * 1024;
    [[nodiscard]] static boost::asio::mutable_buffer scratch_area() noexcept;

    [[nodiscard]] boost::system::error_code to_error(const core::tls_outcome& o) const;
    [[nodiscard]] boost::system::error_code wait_error(boost::system::error_code ec) const;
    [[nodiscard]] boost::system::error_code unusable() const;

    // One operation: `step` is tried, and tried again each time the socket is ready as it
    // asks, until it completes. `ready_only`: the first readiness is the completion.
    template <bool Transfers, class Step, class Arg> struct op
    {
        lean_tls_stream* stream;
        Step step;
        Arg arg;
        bool ready_only = false;
        bool suspended = false;
        bool posted = false;
        boost::system::error_code result_ec{};
        std::size_t result_bytes = 0;

        template <class Self> void operator()(Self& self, boost::system::error_code ec = {})
        {
            if (posted) {
                return complete(self);
            }
            if (suspended && ec) {
                return finish(self, stream->wait_error(ec), 0);
            }
            if (suspended && ready_only) {
                return finish(self, {}, 0);
            }
            if (auto bad = stream->unusable()) {
                return finish(self, bad, 0);
            }
            const auto o = step(*stream->session_, arg);
            if (o.status == core::tls_status::want_read ||
                o.status == core::tls_status::want_write) {
                suspended = true;
                stream->shared_->socket.async_wait(
                    o.status == core::tls_status::want_read
                        ? boost::asio::ip::tcp::socket::wait_read
                        : boost::asio::ip::tcp::socket::wait_write,
                    std::move(self)
                );
                return;
            }
            finish(self, stream->to_error(o), o.bytes);
        }
        template <class Self>
        void finish(Self& self, boost::system::error_code ec, std::size_t bytes)
        {
            result_ec = ec;
            result_bytes = bytes;
            if (suspended) {
                return complete(self);
            }
            posted = true;
            boost::asio::post(std::move(self));
        }
        template <class Self> void complete(Self& self)
        {
            if constexpr (Transfers) {
                self.complete(result_ec, result_bytes);
            } else {
                self.complete(result_ec);
            }
        }
    };

    template <bool Transfers, class Step, class Arg, class Token>
    auto start(Step step, Arg arg, Token&& token, bool ready_only = false)
    {
        using signature = std::conditional_t<
            Transfers, void(boost::system::error_code, std::size_t),
            void(boost::system::error_code)>;
        return boost::asio::async_compose<Token, signature>(
            op<Transfers, Step, Arg>{this, std::move(step), std::move(arg), ready_only}, token,
            shared_->socket
        );
    }

    std::shared_ptr<shared_state> shared_;
    std::optional<core::tls_socket_session> session_;
    boost::system::error_code open_error_;
};

} // namespace certfleet::net

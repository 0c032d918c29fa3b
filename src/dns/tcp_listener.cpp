#include "dns/tcp_listener.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace certfleet::dns::detail {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// accept() failures (EMFILE, ENFILE, ENOBUFS...) leave the connection in the backlog, so an
// immediate retry fails again at once: wait, doubling the wait up to a bound.
constexpr std::chrono::milliseconds first_backoff{10};
constexpr std::chrono::milliseconds max_backoff{1000};

} // namespace

tcp_connection::tcp_connection(tcp::socket socket, shard& owner, std::uint64_t source)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), shard_(owner), source_(source),
      end_of_life_(clock::now() + owner.core.options.tcp_max_lifetime)
{
    mark(true);
}

void tcp_connection::start()
{
    arm_timer();
    read_length();
}

void tcp_connection::close()
{
    finished_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
}

void tcp_connection::evict()
{
    if (!finished_) {
        close(); // the registry has forgotten it already
    }
}

tcp_connection_state tcp_connection::state() const noexcept
{
    return tcp_connection_state{
        source_, idle_.load(std::memory_order_relaxed),
        clock::time_point(clock::duration(last_active_.load(std::memory_order_relaxed)))};
}

void tcp_connection::mark(bool idle) noexcept
{
    idle_.store(idle, std::memory_order_relaxed);
    last_active_.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

// Closes after tcp_idle_timeout without a complete query (RFC 7766 6.2.3), counted from the last
// answer, which also bounds how long an answer may wait for a client that does not read; and
// at the connection's end of life.
void tcp_connection::arm_timer()
{
    const auto idle_deadline = clock::now() + shard_.core.options.tcp_idle_timeout;
    timer_.expires_at(closing_ ? idle_deadline : std::min(idle_deadline, end_of_life_));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) {
            self->on_timer();
        }
    });
}

void tcp_connection::on_timer()
{
    if (finished_) {
        return;
    }
    if (!closing_ && clock::now() >= end_of_life_) {
        shard_.stats.tcp_expired_connections.add();
        if (!idle_.load(std::memory_order_relaxed)) {
            closing_ = true; // let the answer in progress finish, within an idle timeout
            arm_timer();
            return;
        }
    }
    finish();
}

void tcp_connection::read_length()
{
    asio::async_read(
        socket_, asio::buffer(length_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec || self->finished_) {
                self->finish();
                return;
            }
            self->mark(false);
            const std::size_t size = (std::size_t{self->length_[0]} << 8U) | self->length_[1];
            if (size > self->in_.size()) {
                self->shard_.stats.dropped.add(); // no query is this long
                self->finish();
                return;
            }
            self->read_message(size);
        }
    );
}

void tcp_connection::read_message(std::size_t size)
{
    asio::async_read(
        socket_, asio::buffer(in_.data(), size),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec || self->finished_) {
                self->finish();
                return;
            }
            self->answer(n);
        }
    );
}

void tcp_connection::answer(std::size_t size)
{
    shard_.stats.tcp_queries.add();
    auto& scratch = shard_.scratch;
    auto* observer = shard_.core.options.observer;
    response_info info;
    const std::size_t written = respond(
        std::span{in_.data(), size}, std::span{scratch.data() + 2, max_message_size}, shard_.view(),
        transport::tcp, shard_.core.options.responder, observer != nullptr ? &info : nullptr
    );
    if (observer != nullptr && written != 0) {
        notify_challenge_query(*observer, std::span{scratch.data() + 2, written}, info);
    }
    if (written == 0) {
        shard_.stats.dropped.add();
        mark(true);
        read_length();
        return;
    }
    shard_.stats.count_response(std::span{scratch.data() + 2, written});
    scratch[0] = static_cast<std::uint8_t>(written >> 8U);
    scratch[1] = static_cast<std::uint8_t>(written);
    out_.assign(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(written + 2));
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            if (ec || self->finished_ || self->closing_) {
                self->finish();
                return;
            }
            self->mark(true);
            self->out_.clear();
            self->arm_timer();
            self->read_length();
        }
    );
}

void tcp_connection::finish()
{
    if (finished_) {
        return;
    }
    close();
    shard_.core.registry.remove(this);
}

tcp_listener::tcp_listener(shard& owner) : shard_(owner), acceptor_(owner.io), backoff_(owner.io) {}

boost::system::error_code tcp_listener::open(const tcp::endpoint& at, bool shared_port)
{
    boost::system::error_code ec;
    acceptor_.open(at.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec && shared_port) {
        ec = share_port(acceptor_.native_handle());
    }
    if (!ec && at.address().is_v6()) {
        acceptor_.set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) {
        acceptor_.bind(at, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    return ec;
}

void tcp_listener::close()
{
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
}

void tcp_listener::accept()
{
    acceptor_.async_accept([self = shared_from_this(
                            )](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) {
            return;
        }
        if (ec) {
            self->shard_.stats.accept_errors.add();
            self->back_off();
            return;
        }
        self->delay_ = std::chrono::milliseconds{0};
        self->admit(std::move(socket));
        self->accept();
    });
}

void tcp_listener::back_off()
{
    delay_ = delay_.count() == 0 ? first_backoff : std::min(delay_ * 2, max_backoff);
    backoff_.expires_after(delay_);
    backoff_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && self->acceptor_.is_open()) {
            self->accept();
        }
    });
}

void tcp_listener::admit(tcp::socket socket)
{
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    if (ec) {
        return; // already gone
    }
    std::uint64_t source = 0;
    if (peer.address().is_v4()) {
        const auto bytes = peer.address().to_v4().to_bytes();
        source = tcp_source_key(bytes);
    } else {
        const auto bytes = peer.address().to_v6().to_bytes();
        source = tcp_source_key(bytes);
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (const auto size = shard_.core.options.tcp_send_buffer; size != 0) {
        socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(size)), ec);
    }
    auto connection = std::make_shared<tcp_connection>(std::move(socket), shard_, source);
    auto decision = shard_.core.registry.admit(connection);
    if (!decision.admitted) {
        // Closing at once is the cheapest refusal; the client may use UDP or retry.
        shard_.stats.tcp_refused_connections.add();
        connection->close();
        return;
    }
    if (decision.victim) {
        shard_.stats.tcp_evicted_connections.add();
        asio::post(decision.victim->executor(), [victim = decision.victim] { victim->evict(); });
    }
    connection->start();
}

} // namespace certfleet::dns::detail

#include "dns/server.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <charconv>
#include <unordered_set>

#include "dns/errc.hpp"

namespace certfleet::dns {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

// Datagrams read and answered per system call pair (recvmmsg/sendmmsg).
constexpr std::size_t udp_batch = 32;
// Batches handled before yielding to other work (TCP, timers) on the same thread.
constexpr int udp_rounds_per_turn = 16;
constexpr std::size_t max_udp_message = 4096;

class udp_listener : public std::enable_shared_from_this<udp_listener>
{
public:
    udp_listener(
        asio::io_context& io,
        const zone_data& data,
        const responder_options& options,
        server_stats& stats
    )
        : socket_(io), data_(data), options_(options), stats_(stats)
    {}

    boost::system::error_code open(const udp::endpoint& at)
    {
        boost::system::error_code ec;
        socket_.open(at.protocol(), ec);
        if (!ec && at.address().is_v6()) {
            socket_.set_option(asio::ip::v6_only(true), ec);
        }
        if (!ec) {
            socket_.bind(at, ec);
        }
        if (!ec) {
            socket_.non_blocking(true, ec);
        }
        return ec;
    }

    void start()
    {
        for (std::size_t i = 0; i < udp_batch; ++i) {
            auto& s = slots_[i];
            s.in_iov = {s.in.data(), s.in.size()};
            auto& h = in_headers_[i].msg_hdr;
            h = msghdr{};
            h.msg_name = &s.peer;
            h.msg_namelen = sizeof(sockaddr_storage);
            h.msg_iov = &s.in_iov;
            h.msg_iovlen = 1;
        }
        wait();
    }

    void close()
    {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    [[nodiscard]] udp::endpoint local_endpoint() const
    {
        boost::system::error_code ignored;
        return socket_.local_endpoint(ignored);
    }

private:
    struct slot
    {
        std::array<std::uint8_t, max_udp_message> in{};
        std::array<std::uint8_t, max_udp_message> out{};
        sockaddr_storage peer{};
        iovec in_iov{};
        iovec out_iov{};
    };

    void wait()
    {
        socket_.async_wait(
            udp::socket::wait_read,
            [self = shared_from_this()](boost::system::error_code ec) {
                if (!ec) {
                    self->drain();
                }
            }
        );
    }

    void drain()
    {
        for (int round = 0; round < udp_rounds_per_turn; ++round) {
            const int received = receive_batch();
            if (received < 0) {
                wait(); // nothing more queued (or the socket failed: the next wait reports it)
                return;
            }
            answer_batch(static_cast<std::size_t>(received));
            if (static_cast<std::size_t>(received) < udp_batch) {
                // A short batch means the queue was empty: skip the recvmmsg that would only
                // say EAGAIN. Epoll is edge-triggered, so the next datagram wakes us up.
                wait();
                return;
            }
        }
        // Still busy: let other handlers run, then continue where we left off.
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            if (self->socket_.is_open()) {
                self->drain();
            }
        });
    }

    // The headers are set up once in start(); the kernel writes back only msg_namelen (reset in
    // answer_batch for the slots it used), msg_flags and msg_len.
    int receive_batch()
    {
        for (;;) {
            const int n = ::recvmmsg(
                socket_.native_handle(), in_headers_.data(), udp_batch, MSG_DONTWAIT, nullptr
            );
            if (n > 0) {
                return n;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }
    }

    void answer_batch(std::size_t received)
    {
        unsigned replies = 0;
        for (std::size_t i = 0; i < received; ++i) {
            auto& s = slots_[i];
            auto& in = in_headers_[i];
            const auto peer_length = in.msg_hdr.msg_namelen;
            in.msg_hdr.msg_namelen = sizeof(sockaddr_storage); // for the next receive_batch
            ++stats_.udp_queries;
            if ((in.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
                ++stats_.dropped; // larger than any query we accept
                continue;
            }
            const std::size_t size = respond(
                std::span{s.in.data(), in.msg_len}, std::span{s.out}, data_, transport::udp,
                options_
            );
            if (size == 0) {
                ++stats_.dropped;
                continue;
            }
            s.out_iov = {s.out.data(), size};
            auto& h = out_headers_[replies++].msg_hdr;
            h = msghdr{};
            h.msg_name = &s.peer;
            h.msg_namelen = peer_length;
            h.msg_iov = &s.out_iov;
            h.msg_iovlen = 1;
        }
        unsigned sent = 0;
        while (sent < replies) {
            const int n = ::sendmmsg(
                socket_.native_handle(), out_headers_.data() + sent, replies - sent, MSG_DONTWAIT
            );
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                // A full send buffer or an unreachable peer: UDP answers may be lost, the
                // client retries.
                stats_.dropped += replies - sent;
                break;
            }
            sent += static_cast<unsigned>(n);
        }
    }

    udp::socket socket_;
    const zone_data& data_;
    const responder_options& options_;
    server_stats& stats_;
    std::array<slot, udp_batch> slots_{};
    std::array<mmsghdr, udp_batch> in_headers_{};
    std::array<mmsghdr, udp_batch> out_headers_{};
};

class tcp_connection;

struct tcp_shared
{
    const zone_data& data;
    const responder_options& responder;
    std::chrono::milliseconds idle_timeout;
    std::size_t max_connections;
    server_stats& stats;
    std::unordered_set<std::shared_ptr<tcp_connection>> connections;
};

// One client connection: length-prefixed messages (RFC 1035 4.2.2), answered in order, several
// per connection, closed after `idle_timeout` without a complete query (RFC 7766 6.2.3).
class tcp_connection : public std::enable_shared_from_this<tcp_connection>
{
public:
    tcp_connection(tcp::socket socket, tcp_shared& shared)
        : socket_(std::move(socket)), idle_(socket_.get_executor()), shared_(shared)
    {}

    void start()
    {
        arm_idle_timer();
        read_length();
    }

    void close()
    {
        boost::system::error_code ignored;
        socket_.close(ignored);
        idle_.cancel();
    }

private:
    void arm_idle_timer()
    {
        idle_.expires_after(shared_.idle_timeout);
        idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) {
                self->finish();
            }
        });
    }

    void read_length()
    {
        asio::async_read(
            socket_, asio::buffer(length_),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (ec) {
                    self->finish();
                    return;
                }
                const std::size_t size = (std::size_t{self->length_[0]} << 8) | self->length_[1];
                self->read_message(size);
            }
        );
    }

    void read_message(std::size_t size)
    {
        asio::async_read(
            socket_, asio::buffer(in_.data(), size),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                if (ec) {
                    self->finish();
                    return;
                }
                self->answer(n);
            }
        );
    }

    void answer(std::size_t size)
    {
        ++shared_.stats.tcp_queries;
        const std::size_t written = respond(
            std::span{in_.data(), size}, std::span{out_.data() + 2, max_message_size}, shared_.data,
            transport::tcp, shared_.responder
        );
        if (written == 0) {
            ++shared_.stats.dropped;
            read_length();
            return;
        }
        out_[0] = static_cast<std::uint8_t>(written >> 8);
        out_[1] = static_cast<std::uint8_t>(written);
        asio::async_write(
            socket_, asio::buffer(out_.data(), written + 2),
            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                if (ec) {
                    self->finish();
                    return;
                }
                self->arm_idle_timer();
                self->read_length();
            }
        );
    }

    void finish()
    {
        close();
        shared_.connections.erase(shared_from_this());
    }

    tcp::socket socket_;
    asio::steady_timer idle_;
    tcp_shared& shared_;
    std::array<std::uint8_t, 2> length_{};
    std::array<std::uint8_t, max_message_size> in_{};
    std::array<std::uint8_t, max_message_size + 2> out_{};
};

class tcp_listener : public std::enable_shared_from_this<tcp_listener>
{
public:
    tcp_listener(asio::io_context& io, tcp_shared& shared) : acceptor_(io), shared_(shared) {}

    boost::system::error_code open(const tcp::endpoint& at)
    {
        boost::system::error_code ec;
        acceptor_.open(at.protocol(), ec);
        if (!ec) {
            acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
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

    void start() { accept(); }

    void close()
    {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    void accept()
    {
        acceptor_.async_accept([self = shared_from_this(
                                )](boost::system::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) {
                return;
            }
            if (!ec) {
                self->admit(std::move(socket));
            }
            self->accept();
        });
    }

    void admit(tcp::socket socket)
    {
        if (shared_.connections.size() >= shared_.max_connections) {
            ++shared_.stats.tcp_refused_connections;
            return; // closing at once is the cheapest refusal; the client may use UDP or retry
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto connection = std::make_shared<tcp_connection>(std::move(socket), shared_);
        shared_.connections.insert(connection);
        connection->start();
    }

    tcp::acceptor acceptor_;
    tcp_shared& shared_;
};

} // namespace

struct server::impl
{
    impl(asio::io_context& context, server_options opts, zone_data zd)
        : io(context), options(std::move(opts)), data(zd), tcp{data,
                                                               options.responder,
                                                               options.tcp_idle_timeout,
                                                               options.max_tcp_connections,
                                                               stats,
                                                               {}}
    {}

    asio::io_context& io;
    server_options options;
    zone_data data;
    server_stats stats;
    tcp_shared tcp;
    std::vector<std::shared_ptr<udp_listener>> udp_listeners;
    std::vector<std::shared_ptr<tcp_listener>> tcp_listeners;
};

server::server(asio::io_context& io, server_options options, zone_data data)
    : impl_(std::make_unique<impl>(io, std::move(options), data))
{
    impl_->options.responder.max_udp_payload =
        std::clamp<std::uint16_t>(impl_->options.responder.max_udp_payload, 512, max_udp_message);
}

server::~server()
{
    stop();
}

boost::system::error_code server::start()
{
    auto& m = *impl_;
    for (const auto& requested : m.options.listen) {
        // With port 0 the kernel picks UDP's port, which TCP may hold already: try a few.
        const int attempts = requested.port() == 0 ? 16 : 1;
        boost::system::error_code ec;
        for (int attempt = 0; attempt < attempts; ++attempt) {
            auto u = std::make_shared<udp_listener>(m.io, m.data, m.options.responder, m.stats);
            if ((ec = u->open(requested))) {
                break;
            }
            const auto bound = u->local_endpoint();
            auto t = std::make_shared<tcp_listener>(m.io, m.tcp);
            if ((ec = t->open(tcp::endpoint{bound.address(), bound.port()}))) {
                u->close();
                t->close();
                continue;
            }
            m.udp_listeners.push_back(std::move(u));
            m.tcp_listeners.push_back(std::move(t));
            break;
        }
        if (ec) {
            stop();
            return ec;
        }
    }
    for (auto& u : m.udp_listeners) {
        u->start();
    }
    for (auto& t : m.tcp_listeners) {
        t->start();
    }
    return {};
}

void server::stop()
{
    auto& m = *impl_;
    for (auto& u : m.udp_listeners) {
        u->close();
    }
    for (auto& t : m.tcp_listeners) {
        t->close();
    }
    for (const auto& c : m.tcp.connections) {
        c->close();
    }
    m.udp_listeners.clear();
    m.tcp_listeners.clear();
    m.tcp.connections.clear();
}

std::vector<udp::endpoint> server::local_endpoints() const
{
    std::vector<udp::endpoint> out;
    for (const auto& u : impl_->udp_listeners) {
        out.push_back(u->local_endpoint());
    }
    return out;
}

server_stats server::stats() const noexcept
{
    return impl_->stats;
}

boost::system::result<udp::endpoint>
parse_endpoint(std::string_view text, std::uint16_t default_port)
{
    std::string_view host = text;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return errc::invalid_name;
        }
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return errc::invalid_name;
            }
            port_text = rest.substr(1);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const auto colon = text.find(':');
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    std::uint16_t port = default_port;
    if (!port_text.empty()) {
        const auto* end = port_text.data() + port_text.size();
        auto [p, ec] = std::from_chars(port_text.data(), end, port);
        if (ec != std::errc{} || p != end) {
            return errc::invalid_name;
        }
    }
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(std::string(host), ec);
    if (ec) {
        return ec;
    }
    return udp::endpoint{address, port};
}

} // namespace certfleet::dns

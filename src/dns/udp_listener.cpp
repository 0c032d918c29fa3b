#include "dns/udp_listener.hpp"

#include <netinet/in.h>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <cerrno>
#include <chrono>

#include "dns/udp_send.hpp"

namespace certfleet::dns::detail {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// Batches handled before yielding to other work (TCP, timers) on the same thread.
constexpr int rounds_per_turn = 16;

std::span<const std::uint8_t> address_bytes(const sockaddr_storage& peer) noexcept
{
    if (peer.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
        return {reinterpret_cast<const std::uint8_t*>(&v4->sin_addr), 4};
    }
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    return {reinterpret_cast<const std::uint8_t*>(&v6->sin6_addr), 16};
}

} // namespace

udp_listener::udp_listener(shard& owner) : shard_(owner), socket_(owner.io) {}

boost::system::error_code udp_listener::open(const udp::endpoint& at, bool shared_port)
{
    boost::system::error_code ec;
    socket_.open(at.protocol(), ec);
    if (!ec && at.address().is_v6()) {
        socket_.set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec && shared_port) {
        ec = share_port(socket_.native_handle());
    }
    if (!ec) {
        socket_.bind(at, ec);
    }
    if (!ec) {
        socket_.non_blocking(true, ec);
    }
    return ec;
}

void udp_listener::start()
{
    for (std::size_t i = 0; i < batch; ++i) {
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

void udp_listener::close()
{
    boost::system::error_code ignored;
    socket_.close(ignored);
}

udp::endpoint udp_listener::local_endpoint() const
{
    boost::system::error_code ignored;
    return socket_.local_endpoint(ignored);
}

void udp_listener::wait()
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

void udp_listener::drain()
{
    for (int round = 0; round < rounds_per_turn; ++round) {
        const int received = receive_batch();
        if (received < 0) {
            wait(); // nothing more queued (or the socket failed: the next wait reports it)
            return;
        }
        answer_batch(static_cast<std::size_t>(received));
        if (static_cast<std::size_t>(received) < batch) {
            // A short batch means the queue was empty: skip the recvmmsg that would only say
            // EAGAIN. Epoll is edge-triggered, so the next datagram wakes us up.
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
int udp_listener::receive_batch()
{
    for (;;) {
        const int n =
            ::recvmmsg(socket_.native_handle(), in_headers_.data(), batch, MSG_DONTWAIT, nullptr);
        if (n > 0) {
            return n;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return -1;
    }
}

std::size_t
udp_listener::limit_rate(slot& s, std::size_t size, const response_info& info, std::uint32_t now)
{
    auto& limiter = *shard_.core.limiter;
    const auto key = limiter.key(address_bytes(s.peer), info.identity);
    switch (limiter.decide(key, now, shard_.slip_count)) {
    case rate_verdict::send:
        return size;
    case rate_verdict::drop:
        shard_.stats.rate_limited_dropped.add();
        return 0;
    case rate_verdict::truncate:
        shard_.stats.rate_limited_truncated.add();
        return truncate_response(s.out, size, info);
    }
    return 0;
}

void udp_listener::answer_batch(std::size_t received)
{
    // One view for the whole batch: each answer reads one consistent state.
    const zone_view view = shard_.view();
    const auto& options = shard_.core.options.responder;
    const bool limited = shard_.core.limiter != nullptr;
    const auto now =
        limited ? static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                 std::chrono::steady_clock::now().time_since_epoch()
                  )
                                                 .count())
                : 0U;
    std::size_t replies = 0;
    for (std::size_t i = 0; i < received; ++i) {
        auto& s = slots_[i];
        auto& in = in_headers_[i];
        const auto peer_length = in.msg_hdr.msg_namelen;
        in.msg_hdr.msg_namelen = sizeof(sockaddr_storage); // for the next receive_batch
        if ((in.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            shard_.stats.dropped.add(); // larger than any query we accept
            continue;
        }
        response_info info;
        auto* observer = shard_.core.options.observer;
        std::size_t size = respond(
            std::span{s.in.data(), in.msg_len}, std::span{s.out}, view, transport::udp, options,
            // the identity costs a hash: only for the rate limiter (or the issuer's observer)
            limited || observer != nullptr ? &info : nullptr
        );
        if (size != 0) {
            shard_.stats.count_response(std::span{s.out.data(), size});
            if (observer != nullptr) {
                notify_challenge_query(*observer, std::span{s.out.data(), size}, info);
            }
        }
        if (size != 0 && limited) {
            size = limit_rate(s, size, info, now);
        } else if (size == 0) {
            shard_.stats.dropped.add();
        }
        if (size == 0) {
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
    shard_.stats.udp_queries.add(received);
    const auto result =
        send_batch(std::span{out_headers_.data(), replies}, [this](std::span<mmsghdr> m) {
            return ::sendmmsg(
                socket_.native_handle(), m.data(), static_cast<unsigned>(m.size()), MSG_DONTWAIT
            );
        });
    shard_.stats.dropped.add(result.failed);
}

} // namespace certfleet::dns::detail

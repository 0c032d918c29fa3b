#include "dns/udp_listener.hpp"

#include <linux/filter.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>

#include "dns/udp_send.hpp"

namespace certfleet::dns::detail {
using boost::asio::ip::udp;

namespace {

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

udp_listener::udp_listener(server_core& core) : lane_(std::make_shared<lane>(core)) {}

udp_listener::~udp_listener()
{
    close();
}

boost::system::error_code udp_listener::open(const udp::endpoint& at, bool shared_port)
{
    const auto fail = [this] {
        const boost::system::error_code ec{errno, boost::system::system_category()};
        ::close(fd_);
        fd_ = -1;
        return ec;
    };
    fd_ = ::socket(at.address().is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        return {errno, boost::system::system_category()};
    }
    const int one = 1;
    if (at.address().is_v6() &&
        ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
        return fail();
    }
    if (shared_port) {
        if (auto ec = share_port(fd_)) {
            ::close(fd_);
            fd_ = -1;
            return ec;
        }
    }
    // Blocking, with a timeout that bounds how long a stopping loop can sleep (see close()).
    const auto poll_us = std::chrono::duration_cast<std::chrono::microseconds>(stop_poll).count();
    const timeval timeout{poll_us / 1'000'000, poll_us % 1'000'000};
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        return fail();
    }
    if (::bind(fd_, at.data(), static_cast<socklen_t>(at.size())) != 0) {
        return fail();
    }
    return {};
}

boost::system::error_code udp_listener::spread_datagrams(std::size_t sockets)
{
    // Classic BPF run by the kernel for each datagram: its return value is the index of the
    // socket in the group (an index past the end falls back to the hash). The kernel refuses a
    // modulus of zero.
    std::array<sock_filter, 3> code{{
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_RANDOM)),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, static_cast<std::uint32_t>(sockets)),
        BPF_STMT(BPF_RET | BPF_A, 0),
    }};
    const sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
    if (::setsockopt(fd_, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) != 0) {
        return {errno, boost::system::system_category()};
    }
    return {};
}

void udp_listener::start()
{
    for (std::size_t i = 0; i < batch; ++i) {
        auto& s = (*slots_)[i];
        s.in_iov = {s.in.data(), s.in.size()};
        auto& h = in_headers_[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &s.peer;
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &s.in_iov;
        h.msg_iovlen = 1;
    }
    thread_ = std::thread([this] { run(); });
}

void udp_listener::close()
{
    stopping_.store(true, std::memory_order_relaxed);
    if (fd_ >= 0 && thread_.joinable()) {
        // Wakes a recvmmsg asleep on the socket (it returns at once from then on). Linux
        // reports ENOTCONN for an unconnected socket, after doing it.
        ::shutdown(fd_, SHUT_RDWR);
    }
    if (thread_.joinable()) {
        thread_.join();
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

udp::endpoint udp_listener::local_endpoint() const
{
    udp::endpoint at;
    socklen_t size = static_cast<socklen_t>(at.capacity());
    if (fd_ < 0 || ::getsockname(fd_, at.data(), &size) != 0) {
        return {};
    }
    at.resize(size);
    return at;
}

void udp_listener::run()
{
    while (!stopping_.load(std::memory_order_relaxed)) {
        const int received = receive_batch();
        if (stopping_.load(std::memory_order_relaxed)) {
            return; // what was read after shutdown() is not worth answering
        }
        if (received > 0) {
            answer_batch(static_cast<std::size_t>(received));
        }
    }
}

// The headers are set up once in start(); the kernel writes back only msg_namelen (reset in
// answer_batch for the slots it used), msg_flags and msg_len. MSG_WAITFORONE: sleep until the
// first datagram, then take only what is already queued. Returns -1 on a timeout (EAGAIN), an
// interruption, or an error the socket reported (an ICMP error queued by an earlier send): the
// next call goes on either way.
int udp_listener::receive_batch()
{
    return ::recvmmsg(fd_, in_headers_.data(), batch, MSG_WAITFORONE, nullptr);
}

std::size_t
udp_listener::limit_rate(slot& s, std::size_t size, const response_info& info, std::uint32_t now)
{
    auto& limiter = *lane_->core.limiter;
    const auto key = limiter.key(address_bytes(s.peer), info.identity);
    switch (limiter.decide(key, now, lane_->slip_count)) {
    case rate_verdict::send:
        return size;
    case rate_verdict::drop:
        lane_->stats.rate_limited_dropped.add();
        return 0;
    case rate_verdict::truncate:
        lane_->stats.rate_limited_truncated.add();
        return truncate_response(s.out, size, info);
    }
    return 0;
}

void udp_listener::answer_batch(std::size_t received)
{
    // One view for the whole batch: each answer reads one consistent state.
    const zone_view view = lane_->view();
    const auto& options = lane_->core.options.responder;
    const bool limited = lane_->core.limiter != nullptr;
    const auto now =
        limited ? static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                 std::chrono::steady_clock::now().time_since_epoch()
                  )
                                                 .count())
                : 0U;
    std::size_t replies = 0;
    for (std::size_t i = 0; i < received; ++i) {
        auto& s = (*slots_)[i];
        auto& in = in_headers_[i];
        const auto peer_length = in.msg_hdr.msg_namelen;
        in.msg_hdr.msg_namelen = sizeof(sockaddr_storage); // for the next receive_batch
        if ((in.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            lane_->stats.dropped.add(); // larger than any query we accept
            continue;
        }
        response_info info;
        auto* observer = lane_->core.options.observer;
        std::size_t size = respond(
            std::span{s.in.data(), in.msg_len}, std::span{s.out}, view, transport::udp, options,
            // the identity costs a hash: only for the rate limiter (or the issuer's observer)
            limited || observer != nullptr ? &info : nullptr
        );
        if (size != 0) {
            lane_->stats.count_response(std::span{s.out.data(), size});
            if (observer != nullptr) {
                notify_challenge_query(*observer, std::span{s.out.data(), size}, info);
            }
        }
        if (size != 0 && limited) {
            size = limit_rate(s, size, info, now);
        } else if (size == 0) {
            lane_->stats.dropped.add();
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
    lane_->stats.udp_queries.add(received);
    const auto result =
        send_batch(std::span{out_headers_.data(), replies}, [this](std::span<mmsghdr> m) {
            return ::sendmmsg(fd_, m.data(), static_cast<unsigned>(m.size()), MSG_DONTWAIT);
        });
    lane_->stats.dropped.add(result.failed);
}

} // namespace certfleet::dns::detail

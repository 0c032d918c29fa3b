#pragma once
// Inside dns::server: one UDP socket served by a thread of its own, in a blocking loop as NSD
// and Knot serve theirs: recvmmsg(MSG_WAITFORONE) sleeps until a datagram arrives and takes
// whatever else is queued behind it (never waiting for a batch to fill), the batch is answered
// and sent with one sendmmsg, with response rate limiting. No event loop sits on the query
// path: a datagram wakes the thread that answers it, and nothing else wakes that thread.
//
// Stop: stop() sets a flag and shuts the socket down for reading, which wakes a blocked
// recvmmsg at once; a receive timeout (stop_poll) bounds the wait where it would not.

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "dns/server_shard.hpp"

namespace certfleet::dns::detail {

inline constexpr std::size_t max_udp_message = 4096;

class udp_listener
{
public:
    explicit udp_listener(server_core& core);
    ~udp_listener();
    udp_listener(const udp_listener&) = delete;
    udp_listener& operator=(const udp_listener&) = delete;

    // `shared_port`: SO_REUSEPORT, so that every thread can bind the same address.
    boost::system::error_code open(const boost::asio::ip::udp::endpoint& at, bool shared_port);
    // Starts the thread that answers the socket.
    void start();
    // Wakes and joins the thread, then closes the socket; idempotent, from any other thread.
    void close();
    [[nodiscard]] boost::asio::ip::udp::endpoint local_endpoint() const;
    // On the first of `sockets` sockets bound to one address with SO_REUSEPORT (the group, this
    // one included, in the order they were bound): each datagram goes to one of them at random
    // rather than by a hash of its source, which sends every query of one busy resolver (or of
    // the few sockets a load generator uses) to the same thread while the others idle.
    boost::system::error_code spread_datagrams(std::size_t sockets);
    // The counters of this socket's thread; they outlive the listener.
    [[nodiscard]] std::shared_ptr<const lane> counters() const noexcept { return lane_; }

    // The longest a stopping loop may sleep in recvmmsg when shutdown() did not wake it.
    static constexpr std::chrono::milliseconds stop_poll{200};

private:
    // Datagrams read and answered per system call pair, at most.
    static constexpr std::size_t batch = 32;

    struct slot
    {
        std::array<std::uint8_t, max_udp_message> in{};
        std::array<std::uint8_t, max_udp_message> out{};
        sockaddr_storage peer{};
        iovec in_iov{};
        iovec out_iov{};
    };

    void run();
    int receive_batch();
    void answer_batch(std::size_t received);
    // Applies the rate limit to the answer of `s` (`size` bytes); returns the size to send.
    std::size_t limit_rate(slot& s, std::size_t size, const response_info& info, std::uint32_t now);

    std::shared_ptr<lane> lane_;
    int fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    // Large (about 260 KiB): allocated once with the listener, never on the query path.
    std::unique_ptr<std::array<slot, batch>> slots_ = std::make_unique<std::array<slot, batch>>();
    std::array<mmsghdr, batch> in_headers_{};
    std::array<mmsghdr, batch> out_headers_{};
};

} // namespace certfleet::dns::detail

#pragma once
// Inside dns::server: one UDP socket of one thread, read and answered in batches
// (recvmmsg/sendmmsg), with response rate limiting.

#include <sys/socket.h>

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <memory>

#include "dns/server_shard.hpp"

namespace certfleet::dns::detail {

inline constexpr std::size_t max_udp_message = 4096;

class udp_listener : public std::enable_shared_from_this<udp_listener>
{
public:
    explicit udp_listener(shard& owner);

    // `shared_port`: SO_REUSEPORT, so that every thread can bind the same address.
    boost::system::error_code open(const boost::asio::ip::udp::endpoint& at, bool shared_port);
    void start();
    void close();
    [[nodiscard]] boost::asio::ip::udp::endpoint local_endpoint() const;

private:
    // Datagrams read and answered per system call pair.
    static constexpr std::size_t batch = 32;

    struct slot
    {
        std::array<std::uint8_t, max_udp_message> in{};
        std::array<std::uint8_t, max_udp_message> out{};
        sockaddr_storage peer{};
        iovec in_iov{};
        iovec out_iov{};
    };

    void wait();
    void drain();
    int receive_batch();
    void answer_batch(std::size_t received);
    // Applies the rate limit to the answer of `s` (`size` bytes); returns the size to send.
    std::size_t limit_rate(slot& s, std::size_t size, const response_info& info, std::uint32_t now);

    shard& shard_;
    boost::asio::ip::udp::socket socket_;
    std::array<slot, batch> slots_{};
    std::array<mmsghdr, batch> in_headers_{};
    std::array<mmsghdr, batch> out_headers_{};
};

} // namespace certfleet::dns::detail

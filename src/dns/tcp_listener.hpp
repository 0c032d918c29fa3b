#pragma once
// Inside dns::server: TCP (RFC 7766) for one thread. An acceptor that backs off when accept()
// fails, and connections that carry length-prefixed messages (RFC 1035 4.2.2), answered in
// order, several per connection, within an idle timeout and a lifetime.

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <vector>

#include "dns/server_shard.hpp"

namespace certfleet::dns::detail {

// Queries are small; a longer message closes the connection (UDP takes 4096 bytes at most too).
inline constexpr std::size_t max_tcp_query = 4096;

class tcp_connection : public std::enable_shared_from_this<tcp_connection>
{
public:
    tcp_connection(boost::asio::ip::tcp::socket socket, shard& owner, std::uint64_t source);

    void start();
    // On the connection's own thread (post it there from elsewhere); idempotent.
    void close();
    // Closed to make room for another connection.
    void evict();

    // For the registry, from any thread.
    [[nodiscard]] tcp_connection_state state() const noexcept;
    [[nodiscard]] const shard& owner() const noexcept { return shard_; }
    [[nodiscard]] boost::asio::any_io_executor executor() { return socket_.get_executor(); }

private:
    using clock = std::chrono::steady_clock;

    void arm_timer();
    void on_timer();
    void read_length();
    void read_message(std::size_t size);
    void answer(std::size_t size);
    void finish();
    void mark(bool idle) noexcept;

    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    shard& shard_;
    std::uint64_t source_;
    clock::time_point end_of_life_;
    bool closing_ = false; // past its lifetime: close once the answer in progress is written
    bool finished_ = false;
    std::atomic<bool> idle_{true};
    std::atomic<clock::rep> last_active_{0};
    std::array<std::uint8_t, 2> length_{};
    std::array<std::uint8_t, max_tcp_query> in_{};
    std::vector<std::uint8_t> out_;
};

class tcp_listener : public std::enable_shared_from_this<tcp_listener>
{
public:
    explicit tcp_listener(shard& owner);

    boost::system::error_code open(const boost::asio::ip::tcp::endpoint& at, bool shared_port);
    void start() { accept(); }
    void close();

private:
    void accept();
    void back_off();
    void admit(boost::asio::ip::tcp::socket socket);

    shard& shard_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer backoff_;
    std::chrono::milliseconds delay_{0};
};

} // namespace certfleet::dns::detail

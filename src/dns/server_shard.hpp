#pragma once
// Inside dns::server: what all its threads share (the core) and what each thread owns (a
// shard). Not part of the public interface.

#include <sys/socket.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/metrics.hpp"
#include "dns/challenge_records.hpp"
#include "dns/rate_limiter.hpp"
#include "dns/server.hpp"
#include "dns/snapshot.hpp"
#include "dns/tcp_admission.hpp"

namespace certfleet::dns::detail {

// SO_REUSEPORT: every thread binds its own socket to the same address, and the kernel spreads
// datagrams and connections over them by their addresses and ports.
[[nodiscard]] inline boost::system::error_code share_port(int fd) noexcept
{
    const int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return {errno, boost::system::system_category()};
    }
    return {};
}

// One thread's counts: written by that thread alone, summed by stats() (core::local_counter).
struct shard_stats
{
    core::local_counter udp_queries;
    core::local_counter tcp_queries;
    core::local_counter dropped;
    core::local_counter tcp_refused_connections;
    core::local_counter tcp_evicted_connections;
    core::local_counter tcp_expired_connections;
    core::local_counter accept_errors;
    core::local_counter rate_limited_dropped;
    core::local_counter rate_limited_truncated;
    std::array<core::local_counter, rcode_slots> responses;

    // Counts a response respond() wrote, by its RCODE.
    void count_response(std::span<const std::uint8_t> response) noexcept
    {
        responses[rcode_slot(response_rcode(response))].add();
    }
    void add_to(server_stats& s) const noexcept;
};

class tcp_connection;

// Every open TCP connection of the server, whichever thread serves it, for admission.
// Locked on accept and on close only; a query never takes the lock.
class tcp_registry
{
public:
    explicit tcp_registry(const tcp_limits& limits) : limits_(limits) {}

    struct decision
    {
        bool admitted = false;
        std::shared_ptr<tcp_connection> victim; // to close (on its own thread)
    };
    [[nodiscard]] decision admit(const std::shared_ptr<tcp_connection>& connection);
    void remove(const tcp_connection* connection) noexcept;
    [[nodiscard]] std::vector<std::shared_ptr<tcp_connection>> take_all();

private:
    tcp_limits limits_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<tcp_connection>> open_;
    std::vector<tcp_connection_state> states_; // scratch for admit_tcp
};

// Shared by every thread.
struct server_core
{
    server_core(server_options opts, const zone_data& data);

    server_options options;
    published<catalog> zones;
    const challenge_records* challenges;   // may be null
    std::unique_ptr<rate_limiter> limiter; // null when rate limiting is off
    tcp_registry registry;
};

// What one thread touches when it answers: its counters, its snapshot caches and its slip
// count. Touched only by that thread (the counters are read by stats()).
struct lane
{
    explicit lane(server_core& shared) : core(shared) {}

    // The zones and challenge records to answer from now: one consistent view.
    [[nodiscard]] zone_view view()
    {
        return zone_view{
            zones.get(core.zones),
            core.challenges != nullptr ? challenges.get(core.challenges->snapshots()) : nullptr};
    }

    server_core& core;
    shard_stats stats;
    snapshot_cache<catalog> zones;
    snapshot_cache<challenge_set> challenges;
    std::uint32_t slip_count = 0;
};

// One io_context's share: its TCP listeners and connections run there. (Each UDP socket has a
// thread and a lane of its own: see udp_listener.hpp.)
struct shard : lane
{
    shard(boost::asio::io_context& context, server_core& shared) : lane(shared), io(context) {}

    boost::asio::io_context& io;
    // TCP answers are written here, then copied to the connection at their real size: a
    // connection holds kilobytes, not the 64 KiB a response may take.
    std::vector<std::uint8_t> scratch = std::vector<std::uint8_t>(max_message_size + 2);
};

} // namespace certfleet::dns::detail

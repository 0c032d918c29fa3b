#pragma once
// Which TCP connection a server admits, and whom it evicts to make room (RFC 7766 6.2.3: a
// server may close idle connections at any time, and should when it is short of them).
//
// Pure: the caller describes the open connections and the time; nothing here touches a socket.
//
// - A source (an IPv4 address, an IPv6 /64) at its cap gives up its own oldest idle connection
//   for the new one, or the new one is refused when none of them is idle: one client cannot
//   hold the slots of others, whatever it sends.
// - A full server evicts the connection idle the longest, if it has been idle for at least
//   `evict_idle_after` (a connection that has just been answered is likely to ask again), or
//   refuses the new one.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace certfleet::dns {

struct tcp_limits
{
    std::size_t max_connections = 256;
    std::size_t max_per_source = 16;
    std::chrono::milliseconds evict_idle_after{1000};
};

struct tcp_connection_state
{
    std::uint64_t source = 0;
    bool idle = false; // between queries: no query read in part, no answer being written
    std::chrono::steady_clock::time_point last_active{};
};

struct tcp_admission
{
    enum class verdict
    {
        admit,
        admit_after_evicting, // close open[victim] first
        refuse,
    };
    verdict what = verdict::refuse;
    std::size_t victim = 0;
};

[[nodiscard]] tcp_admission admit_tcp(
    std::span<const tcp_connection_state> open,
    std::uint64_t source,
    std::chrono::steady_clock::time_point now,
    const tcp_limits& limits
) noexcept;

// The source key of an address (4 or 16 bytes, network order): the whole IPv4 address, or the
// /64 of an IPv6 address (one host's usual allocation).
[[nodiscard]] std::uint64_t tcp_source_key(std::span<const std::uint8_t> address) noexcept;

} // namespace certfleet::dns

#pragma once
// Response rate limiting (RRL) for UDP, as NSD, Knot and BIND do it: a spoofed source can make
// an authority reflect amplified answers at a victim, so answers to one source prefix (/24 for
// IPv4, /56 for IPv6) with one identity (the name and type, the zone for NXDOMAIN, all errors
// together) are limited to a rate per second. Over the limit an answer is dropped, except every
// `slip`-th, which is sent truncated (TC=1, no records) so that a real resolver retries over
// TCP, where a source cannot be forged.
//
// Thread safety: decide() may be called from every server thread at once; the table is a fixed
// array of atomic buckets (no lock, no allocation after construction). Two identities whose
// hashes share a bucket share its budget until one of them takes the bucket over: a collision
// can only make a limit reset early, never block an identity that was under it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

namespace certfleet::dns {

struct rate_limit_options
{
    bool enabled = true;
    // Responses per second to one prefix with one identity; also the burst allowed at once.
    std::uint32_t responses_per_second = 20;
    // Every slip-th limited answer is sent truncated; 0 drops them all, 1 truncates them all.
    std::uint32_t slip = 2;
    std::uint8_t ipv4_prefix = 24;
    std::uint8_t ipv6_prefix = 56;
    // Buckets in the table (rounded up to a power of two); memory is 8 bytes a bucket.
    std::uint32_t table_size = 1U << 16U;
};

enum class rate_verdict
{
    send,     // under the limit
    drop,     // over the limit: no answer
    truncate, // over the limit: an empty answer with TC=1 (a slip)
};

class rate_limiter
{
public:
    explicit rate_limiter(const rate_limit_options& options);

    // The bucket key of a source address (4 or 16 bytes, network order) and an answer identity
    // (see response_info::identity in responder.hpp).
    [[nodiscard]] std::uint64_t
    key(std::span<const std::uint8_t> address, std::uint64_t identity) const noexcept;

    // Counts one answer for `key` at `now_seconds` (any monotonic count of seconds).
    // `slip_count` belongs to the caller (one per thread) and counts limited answers.
    [[nodiscard]] rate_verdict
    decide(std::uint64_t key, std::uint32_t now_seconds, std::uint32_t& slip_count) noexcept;

private:
    rate_limit_options options_;
    std::uint64_t mask_ = 0;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
};

// Mixes 64 bits into 64 well-spread bits (the finaliser of splitmix64).
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept
{
    x ^= x >> 30U;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27U;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31U;
    return x;
}

} // namespace certfleet::dns

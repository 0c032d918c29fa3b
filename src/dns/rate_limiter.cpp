#include "dns/rate_limiter.hpp"

#include <algorithm>
#include <bit>

namespace certfleet::dns {
namespace {

// A bucket is one 64-bit word, so that it changes with one compare-and-swap:
// tag (20 bits: more of the key, to tell identities apart) | stamp (20 bits: the second of the
// last refill) | used (24 bits: answers counted and not yet refilled).
constexpr unsigned stamp_bits = 20;
constexpr unsigned used_bits = 24;
constexpr std::uint64_t stamp_mask = (1ULL << stamp_bits) - 1;
constexpr std::uint64_t used_mask = (1ULL << used_bits) - 1;
constexpr std::uint64_t tag_mask = (1ULL << 20U) - 1;

constexpr std::uint64_t pack(std::uint64_t tag, std::uint64_t stamp, std::uint64_t used) noexcept
{
    return (tag << (stamp_bits + used_bits)) | ((stamp & stamp_mask) << used_bits) |
           (used & used_mask);
}

} // namespace

rate_limiter::rate_limiter(const rate_limit_options& options) : options_(options)
{
    options_.responses_per_second =
        std::clamp<std::uint32_t>(options_.responses_per_second, 1, used_mask / 2);
    const std::uint64_t size = std::bit_ceil(std::max<std::uint64_t>(options_.table_size, 64));
    mask_ = size - 1;
    buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(size);
}

std::uint64_t
rate_limiter::key(std::span<const std::uint8_t> address, std::uint64_t identity) const noexcept
{
    const unsigned prefix_bits = address.size() == 4 ? options_.ipv4_prefix : options_.ipv6_prefix;
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ address.size();
    for (std::size_t i = 0; i < address.size(); ++i) {
        const unsigned bit = static_cast<unsigned>(i) * 8;
        std::uint8_t byte = 0;
        if (bit + 8 <= prefix_bits) {
            byte = address[i];
        } else if (bit < prefix_bits) {
            byte = static_cast<std::uint8_t>(address[i] & (0xFFU << (8 - (prefix_bits - bit))));
        }
        h = mix64(h ^ byte) + i;
    }
    return mix64(h ^ identity);
}

rate_verdict rate_limiter::decide(
    std::uint64_t key, std::uint32_t now_seconds, std::uint32_t& slip_count
) noexcept
{
    const std::uint64_t rate = options_.responses_per_second;
    const std::uint64_t tag = (key >> 40U) & tag_mask;
    const std::uint64_t now = now_seconds & stamp_mask;
    auto& bucket = buckets_[key & mask_];
    std::uint64_t old = bucket.load(std::memory_order_relaxed);
    bool limited = false;
    for (;;) {
        std::uint64_t used = 0;
        if ((old >> (stamp_bits + used_bits)) == tag) {
            const std::uint64_t stamp = (old >> used_bits) & stamp_mask;
            const std::uint64_t elapsed = (now - stamp) & stamp_mask;
            const std::uint64_t refill = std::min<std::uint64_t>(elapsed, 2) * rate;
            used = old & used_mask;
            used = used > refill ? used - refill : 0;
        } // else: a new identity (or a colliding one) takes the bucket over with a full budget
        limited = used >= rate;
        // Limited answers are counted too, up to twice the rate: a source that keeps flooding
        // stays limited for a second after it stops, as BIND's negative credit does.
        const std::uint64_t next_used = std::min(used + 1, 2 * rate);
        if (bucket.compare_exchange_weak(
                old, pack(tag, now, next_used), std::memory_order_relaxed
            )) {
            break;
        }
    }
    if (!limited) {
        return rate_verdict::send;
    }
    if (options_.slip == 0) {
        return rate_verdict::drop;
    }
    if (++slip_count >= options_.slip) {
        slip_count = 0;
        return rate_verdict::truncate;
    }
    return rate_verdict::drop;
}

} // namespace certfleet::dns

#include "dns/tcp_admission.hpp"

namespace certfleet::dns {

tcp_admission admit_tcp(
    std::span<const tcp_connection_state> open,
    std::uint64_t source,
    std::chrono::steady_clock::time_point now,
    const tcp_limits& limits
) noexcept
{
    std::size_t same_source = 0;
    const tcp_connection_state* own_oldest = nullptr;
    const tcp_connection_state* oldest = nullptr;
    for (const auto& c : open) {
        if (c.source == source) {
            ++same_source;
            if (c.idle && (own_oldest == nullptr || c.last_active < own_oldest->last_active)) {
                own_oldest = &c;
            }
        }
        if (c.idle && now - c.last_active >= limits.evict_idle_after &&
            (oldest == nullptr || c.last_active < oldest->last_active)) {
            oldest = &c;
        }
    }
    auto evict = [&](const tcp_connection_state* victim) {
        return tcp_admission{
            tcp_admission::verdict::admit_after_evicting,
            static_cast<std::size_t>(victim - open.data())};
    };
    if (same_source >= limits.max_per_source) {
        return own_oldest != nullptr ? evict(own_oldest) : tcp_admission{};
    }
    if (open.size() >= limits.max_connections) {
        return oldest != nullptr ? evict(oldest) : tcp_admission{};
    }
    return tcp_admission{tcp_admission::verdict::admit, 0};
}

std::uint64_t tcp_source_key(std::span<const std::uint8_t> address) noexcept
{
    std::uint64_t key = 0;
    const std::size_t take = address.size() == 16 ? 8 : address.size();
    for (std::size_t i = 0; i < take; ++i) {
        key = (key << 8U) | address[i];
    }
    // IPv4 addresses go where no IPv6 /64 is allocated (ffff:ffff::/32), apart from all of them.
    return address.size() == 16 ? key : (0xFFFFFFFF00000000ULL | key);
}

} // namespace certfleet::dns

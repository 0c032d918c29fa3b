#include "deploy/agent_transport.hpp"

#include <charconv>

namespace certfleet::deploy {

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) noexcept
{
    if (value.empty() || value.size() > 9) {
        return std::nullopt;
    }
    long seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds{seconds};
}

} // namespace certfleet::deploy

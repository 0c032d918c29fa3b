#pragma once
// The configuration certfleet runs on when none is given: a demonstration zone on loopback.

#include <string_view>

namespace certfleet::app {

[[nodiscard]] std::string_view default_config() noexcept;

} // namespace certfleet::app

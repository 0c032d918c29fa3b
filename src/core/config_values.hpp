#pragma once
// Typed reads from certfleet's TOML configuration. Every failure throws core::config_error
// naming the key by its full path ("dns.zone[0].soa.minimum: expected ...").

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_error.hpp"

namespace certfleet::core {

[[nodiscard]] std::optional<std::string>
optional_string(const toml::table& t, std::string_view key, const std::string& path);
// Missing or empty: an error.
[[nodiscard]] std::string
required_string(const toml::table& t, std::string_view key, const std::string& path);
// Missing: empty.
[[nodiscard]] std::vector<std::string>
string_array(const toml::table& t, std::string_view key, const std::string& path);

// An integer from 0 to T's maximum; `fallback` when missing.
template <class T>
[[nodiscard]] T
config_integer(const toml::table& t, std::string_view key, const std::string& path, T fallback)
{
    const auto* node = t.get(key);
    if (node == nullptr) {
        return fallback;
    }
    const auto v = node->value<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max()) {
        throw config_error(
            path + "." + std::string(key) + ": expected an integer from 0 to " +
            std::to_string(std::numeric_limits<T>::max())
        );
    }
    return static_cast<T>(*v);
}

} // namespace certfleet::core

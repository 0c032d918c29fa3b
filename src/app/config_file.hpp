#pragma once
// Loading certfleet's TOML configuration (typed reads: core/config_values.hpp).
// Throws core::config_error.

#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace certfleet::app {

struct loaded_config
{
    toml::table table;
    std::filesystem::path base_dir; // relative paths in the file are relative to it
};

// An empty path loads the embedded defaults.
[[nodiscard]] loaded_config load_config(const std::string& file);

} // namespace certfleet::app

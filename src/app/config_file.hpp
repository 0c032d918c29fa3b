#pragma once
// Loading certfleet's TOML configuration and reading typed values with errors that name the key.
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

[[nodiscard]] std::string
required_string(const toml::table& t, std::string_view key, const std::string& path);
[[nodiscard]] std::optional<std::string>
optional_string(const toml::table& t, std::string_view key, const std::string& path);
[[nodiscard]] std::vector<std::string>
string_array(const toml::table& t, std::string_view key, const std::string& path);
[[nodiscard]] std::string lower(std::string s);

} // namespace certfleet::app

#include "app/config_file.hpp"

#include <algorithm>

#include "app/default_config.hpp"
#include "core/config_error.hpp"

namespace certfleet::app {

loaded_config load_config(const std::string& file)
{
    try {
        if (file.empty()) {
            return {
                toml::parse(default_config(), std::string_view{"<embedded defaults>"}),
                std::filesystem::current_path()};
        }
        return {toml::parse_file(file), std::filesystem::absolute(file).parent_path()};
    } catch (const toml::parse_error& e) {
        const auto& where = e.source();
        throw core::config_error(
            (where.path ? *where.path : std::string("config")) + ":" +
            std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) + ": " +
            std::string(e.description())
        );
    }
}

std::optional<std::string>
optional_string(const toml::table& t, std::string_view key, const std::string& path)
{
    const auto* node = t.get(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    auto v = node->value<std::string>();
    if (!v) {
        throw core::config_error(path + "." + std::string(key) + ": expected a string");
    }
    return v;
}

std::string required_string(const toml::table& t, std::string_view key, const std::string& path)
{
    auto v = optional_string(t, key, path);
    if (!v || v->empty()) {
        throw core::config_error(path + "." + std::string(key) + ": missing; it is required");
    }
    return *v;
}

std::vector<std::string>
string_array(const toml::table& t, std::string_view key, const std::string& path)
{
    std::vector<std::string> out;
    const auto* node = t.get(key);
    if (node == nullptr) {
        return out;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
        throw core::config_error(path + "." + std::string(key) + ": expected an array of strings");
    }
    for (const auto& item : *array) {
        auto v = item.value<std::string>();
        if (!v) {
            throw core::config_error(
                path + "." + std::string(key) + ": expected an array of strings"
            );
        }
        out.push_back(*v);
    }
    return out;
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    while (!s.empty() && s.back() == '.') {
        s.pop_back();
    }
    return s;
}

} // namespace certfleet::app

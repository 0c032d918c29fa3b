#include "core/config_values.hpp"

namespace certfleet::core {

std::optional<std::string>
optional_string(const toml::table& t, std::string_view key, const std::string& path)
{
    const auto* node = t.get(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    auto v = node->value<std::string>();
    if (!v) {
        throw config_error(path + "." + std::string(key) + ": expected a string");
    }
    return v;
}

std::string required_string(const toml::table& t, std::string_view key, const std::string& path)
{
    auto v = optional_string(t, key, path);
    if (!v || v->empty()) {
        throw config_error(path + "." + std::string(key) + ": missing; it is required");
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
        throw config_error(path + "." + std::string(key) + ": expected an array of strings");
    }
    for (const auto& item : *array) {
        auto v = item.value<std::string>();
        if (!v) {
            throw config_error(path + "." + std::string(key) + ": expected an array of strings");
        }
        out.push_back(std::move(*v));
    }
    return out;
}

} // namespace certfleet::core

#include "core/challenge_name.hpp"

#include <algorithm>

namespace certfleet::core {
namespace {

// ASCII only: DNS names compare case-insensitively on ASCII letters (RFC 4343).
std::string lower_without_final_dot(std::string_view name)
{
    while (name.ends_with('.')) {
        name.remove_suffix(1);
    }
    std::string out(name);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

} // namespace

std::string lower_name(std::string_view name)
{
    return lower_without_final_dot(name);
}

std::string managed_name_for(std::string_view identifier)
{
    if (identifier.starts_with("*.")) {
        identifier.remove_prefix(2);
    }
    return lower_without_final_dot(identifier);
}

std::string challenge_name_for(std::string_view identifier)
{
    return std::string(challenge_prefix) + managed_name_for(identifier);
}

std::optional<std::string> managed_name_of(std::string_view challenge_fqdn)
{
    std::string name = lower_without_final_dot(challenge_fqdn);
    if (!name.starts_with(challenge_prefix) || name.size() == challenge_prefix.size()) {
        return std::nullopt;
    }
    name.erase(0, challenge_prefix.size());
    return name;
}

} // namespace certfleet::core

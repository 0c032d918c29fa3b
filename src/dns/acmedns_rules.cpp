#include "dns/acmedns_rules.hpp"

#include <algorithm>
#include <boost/algorithm/string/predicate.hpp>
#include <cctype>

namespace certfleet::dns {
namespace {

bool base64url_char(char c) noexcept
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

bool base64url_of_length(std::string_view text, std::size_t length) noexcept
{
    return text.size() == length && std::all_of(text.begin(), text.end(), base64url_char);
}

} // namespace

bool valid_acmedns_txt(std::string_view text) noexcept
{
    return base64url_of_length(text, 43);
}

bool valid_acmedns_key(std::string_view text) noexcept
{
    return base64url_of_length(text, 40);
}

bool valid_acmedns_subdomain(std::string_view text) noexcept
{
    const auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    return !text.empty() && text.size() <= 63 && alnum(text.front()) && alnum(text.back()) &&
           std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::optional<std::string> canonical_uuid(std::string_view text)
{
    if (text.size() != 36) {
        return std::nullopt;
    }
    std::string out(text);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        const auto c = static_cast<unsigned char>(out[i]);
        if (dash ? c != '-' : std::isxdigit(c) == 0) {
            return std::nullopt;
        }
        out[i] = static_cast<char>(std::tolower(c));
    }
    return out;
}

const nlohmann::json* acmedns_field(const nlohmann::json& object, std::string_view name)
{
    if (!object.is_object()) {
        return nullptr;
    }
    const nlohmann::json* found = nullptr;
    for (const auto& [key, value] : object.items()) {
        if (boost::algorithm::iequals(key, name)) {
            found = &value;
        }
    }
    return found;
}

} // namespace certfleet::dns

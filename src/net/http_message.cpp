#include "net/http_message.hpp"

#include <boost/beast/core/string.hpp>

namespace certfleet::net {

std::optional<std::string_view> http_response::header(std::string_view name) const
{
    for (const auto& [key, value] : headers) {
        if (boost::beast::iequals(key, name)) {
            return std::string_view(value);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> http_response::headers_named(std::string_view name) const
{
    std::vector<std::string_view> out;
    for (const auto& [key, value] : headers) {
        if (boost::beast::iequals(key, name)) {
            out.emplace_back(value);
        }
    }
    return out;
}

} // namespace certfleet::net

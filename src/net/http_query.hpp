#pragma once
// Percent-decoding of request targets (RFC 3986 2.1) and form-style query parameters: pure
// functions, shared by the server (query parameters) and the routers (path parameters).

#include <optional>
#include <string>
#include <string_view>

namespace certfleet::net {

// "%2F" → "/"; with plus_is_space, '+' → ' ' (query strings). nullopt for a '%' not followed by
// two hex digits.
[[nodiscard]] std::optional<std::string>
percent_decode(std::string_view text, bool plus_is_space = false);

// The first "name=value" of a query string ("a=1&b=2") whose decoded name is `name`, its value
// decoded; nullopt when absent or badly encoded. "name" alone gives "".
[[nodiscard]] std::optional<std::string>
query_parameter(std::string_view query, std::string_view name);

} // namespace certfleet::net

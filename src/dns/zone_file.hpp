#pragma once
// A subset of the RFC 1035 master-file format, for operators' static records and for loading
// many names at once: one record a line, `owner [ttl] [IN] type rdata`, `;` comments, `$TTL`,
// `$ORIGIN`, `@`, and a blank owner meaning the previous one. Parentheses and $INCLUDE are not
// supported; SOA comes from the zone's configuration, not from the file.

#include <optional>
#include <string>
#include <string_view>

#include "dns/zone.hpp"

namespace certfleet::dns {

struct zone_file_error
{
    std::size_t line = 0;
    std::string what;
};

// Adds every record of `text` to `builder`. Returns the first error, or nothing.
[[nodiscard]] std::optional<zone_file_error>
load_zone_file(std::string_view text, zone_builder& builder, std::uint32_t default_ttl);

} // namespace certfleet::dns

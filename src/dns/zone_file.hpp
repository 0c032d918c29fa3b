#pragma once
// A subset of the RFC 1035 master-file format, for operators' static records and for loading
// many names at once: one record a line, `owner [ttl] [IN] type rdata`, `;` comments, `$TTL`,
// `$ORIGIN`, `@`, and a blank owner meaning the previous one. Parentheses (multi-line records)
// and $INCLUDE are not supported; parentheses inside a quoted string are data. SOA comes from
// the zone's configuration, not from the file.

#include <functional>
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

struct zone_file_source
{
    // Where line N comes from ("dns.zone[0].records[2]", "a.zone:3"), recorded with each record
    // (zone_builder::set_place); none when empty.
    std::function<std::string(std::size_t line)> place;
    // Whether errors may quote words of the text. Not for files: a mistyped records_file may
    // point at a secret, whose first line must not reach a log.
    bool quote_text = true;
};

// Adds every record of `text` to `builder`. Returns the first error, or nothing.
[[nodiscard]] std::optional<zone_file_error> load_zone_file(
    std::string_view text,
    zone_builder& builder,
    std::uint32_t default_ttl,
    const zone_file_source& source = {}
);

} // namespace certfleet::dns

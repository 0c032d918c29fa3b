#pragma once
// Record data in presentation format (as in configuration and zone files) encoded to wire
// format. Names inside rdata are stored uncompressed and canonical (lower case).

#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "dns/message.hpp"

namespace certfleet::dns {

// "A", "aaaa", "TXT", ... → type; nullopt for a type certfleet does not serve.
[[nodiscard]] std::optional<rr_type> type_from_text(std::string_view text) noexcept;
[[nodiscard]] std::string_view type_to_text(rr_type type) noexcept;

// Resolves a possibly relative name against `origin` (canonical wire): "@" is the origin,
// a name with a final dot is absolute, anything else is relative.
[[nodiscard]] boost::system::result<std::string>
resolve_name(std::string_view text, std::string_view origin);

// Encodes rdata text. TXT takes one or more quoted character-strings, or one unquoted word;
// A/AAAA an address; NS/CNAME a name; MX "pref name"; CAA `flags tag "value"`.
[[nodiscard]] boost::system::result<std::string>
encode_rdata(rr_type type, std::string_view text, std::string_view origin);

// TXT rdata for a raw value: split into 255-byte character-strings (RFC 1035 3.3.14).
[[nodiscard]] std::string txt_rdata(std::string_view value);

} // namespace certfleet::dns

#pragma once
// The DNS-01 challenge-name rule (RFC 8555 section 8.4), in one place: the TXT value for an
// identifier lives at `_acme-challenge.<identifier>`, with a wildcard's "*." removed (a wildcard
// is validated at the name below it, RFC 8555 section 7.1.3). Names here are in presentation
// format, compared case-insensitively, so results are in ASCII lower case and without the final
// dot; a caller that wants the absolute form appends the dot. Pure functions; they validate
// nothing else about the name.

#include <optional>
#include <string>
#include <string_view>

namespace certfleet::core {

inline constexpr std::string_view challenge_prefix = "_acme-challenge.";

// A DNS name as certfleet stores and compares it: ASCII lower case, without the final dot
// ("*." kept). "WWW.Example.com." → "www.example.com".
[[nodiscard]] std::string lower_name(std::string_view name);

// The managed name an identifier is validated at: "*." removed, lower case, no final dot.
// "*.Example.com." → "example.com".
[[nodiscard]] std::string managed_name_for(std::string_view identifier);

// Where the identifier's DNS-01 TXT value lives: "*.Example.com" → "_acme-challenge.example.com".
[[nodiscard]] std::string challenge_name_for(std::string_view identifier);

// The inverse: the managed name a challenge name belongs to, lower case and without the final
// dot; nullopt when the name does not start with `_acme-challenge.` (case-insensitive) or has
// nothing after it. "_ACME-challenge.www.example.com." → "www.example.com".
[[nodiscard]] std::optional<std::string> managed_name_of(std::string_view challenge_fqdn);

} // namespace certfleet::core

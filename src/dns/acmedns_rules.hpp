#pragma once
// What the acme-dns API accepts, checked as acme-dns checks it (its api/util.go): pure
// functions of the text, no I/O.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace certfleet::dns {

// A TXT value: exactly 43 characters of the base64url alphabet (RFC 4648 section 5), the size of
// a DNS-01 value (RFC 8555 section 8.4: base64url of a SHA-256 digest).
[[nodiscard]] bool valid_acmedns_txt(std::string_view text) noexcept;

// An API key: exactly 40 characters of the base64url alphabet.
[[nodiscard]] bool valid_acmedns_key(std::string_view text) noexcept;

// A subdomain in an update: one DNS label of letters, digits and inner hyphens
// (RFC 1035 section 2.3.1), at most 63 characters.
[[nodiscard]] bool valid_acmedns_subdomain(std::string_view text) noexcept;

// A UUID in its canonical 8-4-4-4-12 form (any case) as lower case; nullopt otherwise.
[[nodiscard]] std::optional<std::string> canonical_uuid(std::string_view text);

// The member `name` of a JSON object, its key matched in any case as Go's decoder matches struct
// fields (goacmedns sends "SubDomain" and "Txt"); the last one when several match; null when none
// does or `object` is not an object.
[[nodiscard]] const nlohmann::json*
acmedns_field(const nlohmann::json& object, std::string_view name);

} // namespace certfleet::dns

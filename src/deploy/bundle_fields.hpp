#pragma once
// Field codecs of the bundle manifest (bundle.cpp), kept portable: the Windows agent opens
// bundles without OpenSSL, so the leaf's DER comes out of the PEM by base64 alone and times are
// plain calendar arithmetic. Internal to the deploy module.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certfleet::deploy::detail {

// The DER of each "CERTIFICATE" block of a PEM chain, in order (RFC 7468 section 2: lines of
// base64 between the encapsulation boundaries; whitespace inside is ignored). nullopt when there
// is no block, a block of another label, a block whose body is not base64, an unterminated
// block, or more than 16 blocks. No X.509 parsing happens here.
[[nodiscard]] std::optional<std::vector<std::string>> pem_certificates(std::string_view pem);

// RFC 3339 (section 5.6) in UTC to the second, "2026-03-01T12:00:00Z". Formatting floors to
// the second; parsing accepts only that exact form (the manifest is ours: no offsets, no
// fractions), years 1970 to 9999.
[[nodiscard]] std::string format_utc(std::chrono::system_clock::time_point t);
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text
) noexcept;

// Lower-case hex of exactly `size` characters (any size when 0), nothing else.
[[nodiscard]] bool is_lower_hex(std::string_view text, std::size_t size = 0) noexcept;

// Members of untrusted JSON objects: null or nullopt when missing or of another type. Integers
// are JSON numbers without fraction that fit int64 (not 9.0, not 2^63).
[[nodiscard]] const nlohmann::json*
member(const nlohmann::json& object, const char* name, nlohmann::json::value_t type) noexcept;
[[nodiscard]] std::optional<std::string_view>
string_member(const nlohmann::json& object, const char* name) noexcept;
[[nodiscard]] std::optional<std::int64_t>
integer_member(const nlohmann::json& object, const char* name) noexcept;

} // namespace certfleet::deploy::detail

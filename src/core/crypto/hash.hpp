#pragma once
// Digests and MACs over byte strings. Results are raw bytes (32 for SHA-256 and HMAC-SHA256, 20
// for SHA-1); use to_hex or base64url_encode for text. SHA-1 is here only for the certificate
// thumbprints Windows and RRAS expect (DESIGN section 6), never for signatures.
// These functions do not fail in practice; if OpenSSL cannot allocate, they return "".

#include <string>
#include <string_view>

namespace certfleet::core {

[[nodiscard]] std::string sha256(std::string_view data);
[[nodiscard]] std::string sha384(std::string_view data);
[[nodiscard]] std::string sha1(std::string_view data);
[[nodiscard]] std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths, never on where the bytes differ; the lengths
// themselves are not treated as secret. Use it for MACs, tokens and other secrets.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace certfleet::core

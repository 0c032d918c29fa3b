#pragma once
// Binary-to-text encodings: base64 and base64url (RFC 4648 sections 4 and 5) and lower-case hex.
// Encoders never fail. Decoders are strict and never throw: base64url_decode takes the unpadded
// form JOSE and ACME use (RFC 7515 section 2) and rejects '=' padding; base64_decode requires the
// padding. Both reject whitespace, characters outside their alphabet, impossible lengths and
// non-zero trailing bits (RFC 4648 section 3.5), so each byte string has exactly one accepted
// encoding. Errors: core::errc::invalid_encoding.

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace certfleet::core {

[[nodiscard]] std::string base64url_encode(std::string_view bytes);
[[nodiscard]] boost::system::result<std::string> base64url_decode(std::string_view text);

[[nodiscard]] std::string base64_encode(std::string_view bytes);
[[nodiscard]] boost::system::result<std::string> base64_decode(std::string_view text);

[[nodiscard]] std::string to_hex(std::string_view bytes);

} // namespace certfleet::core

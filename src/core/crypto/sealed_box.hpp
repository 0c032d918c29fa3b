#pragma once
// Authenticated encryption of secrets at rest (DESIGN section 7: private keys in the store,
// under the master key). AES-256-GCM with a fresh random 96-bit nonce per message (NIST SP
// 800-38D section 8.2.2; keep well under 2^32 messages per master key).
//
// Sealed format, version 1:  0x01 || nonce (12) || ciphertext (= plaintext length) || tag (16)
//
// `associated_data` is authenticated, not stored: pass what binds the ciphertext to its place
// (e.g. "certfleet/key/<certificate id>") so a sealed value cannot be moved to another row.
// Opening fails with authentication_failed on any tampering, wrong key or wrong associated
// data, and returns no partial plaintext.

#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"

namespace certfleet::core {

inline constexpr std::size_t sealed_box_key_size = 32;
inline constexpr std::size_t sealed_box_overhead = 1 + 12 + 16;

// Errors: invalid_argument (key not 32 bytes, plaintext over 1 GiB), crypto_failure (RNG).
[[nodiscard]] boost::system::result<std::string> seal_aes256gcm(
    std::string_view key32, std::string_view plaintext, std::string_view associated_data
);

// Errors: invalid_argument (key not 32 bytes), corrupt_data (shorter than the overhead, unknown
// version), authentication_failed.
[[nodiscard]] boost::system::result<secret>
open_aes256gcm(std::string_view key32, std::string_view sealed, std::string_view associated_data);

} // namespace certfleet::core

#pragma once
// AES-GCM (NIST SP 800-38D) with the caller's key and nonce, for protocols that fix their own
// nonce schedule (HPKE, RFC 9180 5.2) and for sealed_box.hpp, which draws a random nonce.
// The caller owns nonce uniqueness: never seal two messages with one key and one nonce.
//
// Output of sealing: ciphertext (= plaintext length) || 16-byte tag. Opening returns no partial
// plaintext: the tag is checked before anything is handed back.

#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"

namespace certfleet::core {

inline constexpr std::size_t aes_gcm_nonce_size = 12;
inline constexpr std::size_t aes_gcm_tag_size = 16;

// `key`: 16 bytes (AES-128-GCM) or 32 (AES-256-GCM). Errors: invalid_argument (key or nonce
// size, plaintext or associated data over 1 GiB), crypto_failure.
[[nodiscard]] boost::system::result<std::string> aes_gcm_seal(
    std::string_view key,
    std::string_view nonce,
    std::string_view associated_data,
    std::string_view plaintext
);

// Errors: invalid_argument (key or nonce size, input over 1 GiB), authentication_failed (shorter
// than a tag, or a tag that does not verify: wrong key, nonce, associated data, or tampering),
// crypto_failure.
[[nodiscard]] boost::system::result<secret> aes_gcm_open(
    std::string_view key,
    std::string_view nonce,
    std::string_view associated_data,
    std::string_view sealed
);

} // namespace certfleet::core

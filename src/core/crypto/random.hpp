#pragma once
// Random bytes and text from the OpenSSL CSPRNG: nonces, unguessable labels, passwords and UUIDs.

#include <boost/system/result.hpp>
#include <string>

#include "core/crypto/secret.hpp"

namespace certfleet::core {

// `count` bytes (nonces, salts, HPKE ephemeral keys). Errors: invalid_argument (over 1 MiB),
// crypto_failure.
[[nodiscard]] boost::system::result<std::string> random_bytes(std::size_t count);

// `length` characters from [a-z0-9], starting with a letter (a valid DNS label, RFC 1035 2.3.1).
// 16 characters hold about 82 bits. Errors: crypto_failure.
[[nodiscard]] boost::system::result<std::string> random_label(std::size_t length = 16);

// `length` characters from [A-Za-z0-9]. Errors: crypto_failure.
[[nodiscard]] boost::system::result<secret> random_password(std::size_t length = 24);

// A random (version 4) UUID in its canonical form, lower case: 8-4-4-4-12 hex digits
// (RFC 9562 5.4). Errors: crypto_failure.
[[nodiscard]] boost::system::result<std::string> random_uuid();

} // namespace certfleet::core

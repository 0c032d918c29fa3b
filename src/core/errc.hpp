#pragma once
// Errors of the core module: configuration, storage, file-system and cryptography failures.

#include <boost/system/error_code.hpp>
#include <type_traits>

namespace certfleet::core {

enum class errc
{
    invalid_argument = 1,
    io_error,
    not_found,
    corrupt_data,
    invalid_encoding,      // base64/base64url text that is not canonical, or has a foreign char
    invalid_key,           // PEM that holds no usable private key (garbage, encrypted, mismatched)
    unsupported_key,       // a key that is neither EC P-256/P-384 nor RSA 2048/3072/4096
    invalid_certificate,   // bytes that are not one well-formed X.509 certificate
    too_many_certificates, // a PEM chain longer than the bound
    authentication_failed, // an AEAD tag or a signature that does not verify
    crypto_failure,        // an OpenSSL operation failed where it should not (allocation, RNG)
    already_exists,        // a row or file that must be new is already there
    storage_failure,       // the store could not read or write (SQLite error, locked database)
    storage_full,          // the disk or the database is full: nothing was written
    busy,                  // another process holds the lock (a certificate being issued)
};

[[nodiscard]] const boost::system::error_category& core_category() noexcept;

[[nodiscard]] inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), core_category()};
}

} // namespace certfleet::core

template <> struct boost::system::is_error_code_enum<certfleet::core::errc> : std::true_type
{};

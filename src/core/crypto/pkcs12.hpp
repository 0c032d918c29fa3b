#pragma once
// PKCS#12 (RFC 7292) files for servers that import a certificate with its key (Windows, IIS,
// RRAS). Protected by default with TripleDES-SHA1 and a SHA-1 MAC: what Windows Server 2012 R2
// and later import without trouble (AES-protected PFX files fail there, RRAS.md pitfall 14).
// AES protection is for importers that refuse the legacy algorithms (OpenSSL 3 without its
// legacy provider still reads both; Windows Server 2019 1809 and later read AES).

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

enum class pkcs12_protection
{
    // Key and certificates: pbeWithSHA1And3-KeyTripleDES-CBC; MAC: HMAC-SHA1.
    legacy,
    // Key and certificates: PBES2 with PBKDF2/HMAC-SHA256 and AES-256-CBC (RFC 8018); MAC:
    // HMAC-SHA256.
    aes,
};

struct pkcs12_options
{
    pkcs12_protection protection = pkcs12_protection::legacy;
};

// `chain_pem`: leaf first. Errors: invalid_certificate (no certificate, or the leaf does not
// match the key), crypto_failure.
[[nodiscard]] boost::system::result<std::string> make_pkcs12(
    const private_key& key,
    std::string_view chain_pem,
    std::string_view password,
    std::string_view friendly_name,
    const pkcs12_options& options = {}
);

} // namespace certfleet::core

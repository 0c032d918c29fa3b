#pragma once
// PKCS#12 (RFC 7292) files for servers that import a certificate with its key (Windows, IIS,
// RRAS). Protected with TripleDES-SHA1 and a SHA-1 MAC: what Windows Server 2012 R2 and later
// import without trouble (AES-protected PFX files fail there).

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

// `chain_pem`: leaf first. Errors: invalid_certificate (no certificate, or the leaf does not
// match the key), crypto_failure.
[[nodiscard]] boost::system::result<std::string> make_pkcs12(
    const private_key& key,
    std::string_view chain_pem,
    std::string_view password,
    std::string_view friendly_name
);

} // namespace certfleet::core

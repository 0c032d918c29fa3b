#pragma once
// A self-signed server certificate for the API listener when no other is configured: the
// operator pins its SHA-256 (printed by `certfleet init`) in clients instead of trusting a CA.

#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

struct self_signed_request
{
    std::string common_name = "certfleet";
    std::vector<std::string> dns_names;    // subjectAltName dNSName entries
    std::vector<std::string> ip_addresses; // subjectAltName iPAddress entries, textual
    std::chrono::hours validity{24 * 825};
};

// The certificate as PEM, signed by `key` (SHA-256), valid from an hour ago (clock skew) for
// request.validity. Errors: invalid_argument (a bad name or address), crypto_failure.
[[nodiscard]] boost::system::result<std::string>
make_self_signed_certificate(const private_key& key, const self_signed_request& request);

} // namespace certfleet::core

#pragma once
// PKCS#10 certificate signing requests for ACME finalization (RFC 8555 section 7.4, RFC 2986).
// The request carries every name in a subjectAltName extension (RFC 5280 section 4.2.1.6),
// wildcards ("*.example.com") included, in the given order; the subject is CN = the first name
// when it fits the 64-character ub-common-name (RFC 5280 appendix A.1), else empty. Version 1
// (value 0). Signed with SHA-256, or SHA-384 for a P-384 key. Names must already be A-labels
// (IDNA), lower or upper case; they are not otherwise rewritten.

#include <boost/system/result.hpp>
#include <string>
#include <vector>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

// DER encoding of the request. Errors: invalid_argument (no names, an empty name, a name longer
// than 253 characters or with a character outside letters, digits, '-', '.', '_' and '*'),
// crypto_failure.
[[nodiscard]] boost::system::result<std::string>
make_csr_der(const private_key& key, const std::vector<std::string>& dns_names);

} // namespace certfleet::core

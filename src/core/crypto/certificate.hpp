#pragma once
// Reading X.509 certificates (RFC 5280): what issuance, renewal (ARI, RFC 9773) and deployment
// need to know about a certificate, parsed once into plain values. Parsing checks structure only:
// no signature, chain, time or name validation happens here.

#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/private_key.hpp"

namespace certfleet::core {

struct certificate_info
{
    std::string der; // the certificate exactly as received
    // The content octets of the serialNumber DER INTEGER, exactly as encoded (two's complement,
    // so a leading 00 is kept when the high bit is set): what RFC 9773 section 4.1 base64url-
    // encodes into the ARI certID.
    std::string serial;
    // The keyIdentifier of the Authority Key Identifier extension (RFC 5280 section 4.2.1.1),
    // raw bytes; nullopt when the extension or its keyIdentifier is absent.
    std::optional<std::string> authority_key_id;
    // Times outside what system_clock can hold (years before 1678 or after 2261 with libstdc++,
    // e.g. the 99991231235959Z "no well-defined expiration" of RFC 5280 section 4.1.2.5) are
    // clamped to time_point::min() / max().
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
    std::vector<std::string> dns_names; // dNSName entries of subjectAltName, in order
    std::string subject_cn;             // first commonName of the subject, UTF-8; "" if none
    std::string issuer_cn;              // first commonName of the issuer, UTF-8; "" if none
    std::string issuer_dn;              // RFC 2253 one-line form, non-ASCII escaped as \XX
    std::string sha256_fingerprint;     // raw 32 bytes of SHA-256(der)
    std::string sha1_fingerprint;       // raw 20 bytes of SHA-1(der) (Windows thumbprint)
    std::string public_key_der;         // the SubjectPublicKeyInfo, DER
};

// At most this many certificates in one PEM chain.
inline constexpr std::size_t max_chain_length = 16;

// One DER certificate, with no trailing bytes. Errors: invalid_certificate.
[[nodiscard]] boost::system::result<certificate_info> parse_der_certificate(std::string_view der);

// A PEM chain (application/pem-certificate-chain, RFC 8555 section 9.1), leaf first, in the
// given order. Text between blocks is ignored; any block that is not "CERTIFICATE" is refused.
// Errors: invalid_certificate (empty, no certificate, a bad block, over 1 MiB),
// too_many_certificates (more than max_chain_length).
[[nodiscard]] boost::system::result<std::vector<certificate_info>>
parse_pem_chain(std::string_view pem);

// True when the certificate's public key is the public half of `key`.
[[nodiscard]] bool certificate_matches_key(const certificate_info& cert, const private_key& key);

} // namespace certfleet::core

#pragma once
// Certificate bundles (DESIGN section 6): what the server publishes to one agent for one
// assignment and one certificate version.
//
// Wire form: a JWS in flattened JSON serialization (RFC 7515 7.2.2), ES256, signed by the
// server's bundle-signing key (the agent pinned the SHA-256 of its SubjectPublicKeyInfo at
// enrollment). Protected header: {"alg":"ES256","typ":"certfleet-bundle+jws"}. The payload is
// the manifest (see bundle.cpp for the field list): identifiers, target and its options, the
// chain, hashes, serial, validity, the PFX, and the secrets (the private key PEM and the PFX
// password) sealed with HPKE (hpke.hpp) to the agent's public key, with the manifest's
// identifiers as associated data so a sealed blob cannot be moved to another bundle.
//
// Opening checks, in order, and refuses with the first that fails (nothing is returned then):
// size and the JWS envelope (malformed_bundle), signature (bad_signature), the manifest's fields
// and types, and that its sha1/sha256 are the hashes of the leaf's DER in chain_pem
// (malformed_bundle), agent (wrong_agent), version against the one deployed for that assignment
// (replayed_bundle), the sealed secrets (unseal_failed), then their shape (malformed_bundle).
// Opening needs no X.509 or PKCS#8 parser (the Windows agent has no OpenSSL), so it does not
// prove that the key belongs to the leaf: the server checks that when it builds the PFX
// (core::make_pkcs12), and the signature covers both.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/secret.hpp"
#include "deploy/crypto_port.hpp"

namespace certfleet::deploy {

inline constexpr std::size_t max_bundle_bytes = 1024 * 1024;

struct bundle
{
    std::string agent;              // the agent's id (its name on the server)
    std::int64_t assignment = 0;    // which assignment of the agent this serves
    std::int64_t certificate = 0;   // the certificate's id on the server
    std::int64_t version = 0;       // the certificate version's id: grows with every issuance
    std::string target;             // "files", "exec", "rras"
    nlohmann::json target_options;  // the assignment's options for its target
    std::vector<std::string> names; // the certificate's DNS names
    std::string chain_pem;          // leaf first
    std::string sha1_hex;           // SHA-1 of the leaf's DER: the Windows thumbprint (lower case)
    std::string sha256_hex;         // SHA-256 of the leaf's DER (lower case)
    std::string serial_hex;
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
    std::string pfx;      // PKCS#12 bytes (protected by pfx_password)
    core::secret key_pem; // the leaf's private key, PKCS#8 PEM
    core::secret pfx_password;
};

// Server side: seals the secrets to `agent_public_point` (HPKE with AES-256-GCM) and signs the
// manifest with the signing key. Times are sent to the second (floored). A null target_options
// is sent as {}. Errors: malformed_bundle (a field open_bundle would refuse: empty agent, target,
// pfx or key, hashes that are not the leaf's, a string that is not UTF-8, a time outside
// 1970-9999), crypto_failure (also for a recipient that is not a P-256 point).
[[nodiscard]] boost::system::result<std::string> seal_and_sign_bundle(
    const bundle& contents,
    std::string_view agent_public_point,
    std::string_view signing_private_scalar,
    const crypto_port& crypto
);

struct open_bundle_options
{
    std::string_view agent;                       // this agent's id
    std::string_view agent_private_scalar;        // this agent's key
    std::string_view signing_public_point;        // the server's pinned bundle-signing key
    std::optional<std::int64_t> deployed_version; // for this assignment, if any
};

// Agent side: verifies and opens. Errors as listed in the header comment.
[[nodiscard]] boost::system::result<bundle>
open_bundle(std::string_view text, const open_bundle_options& options, const crypto_port& crypto);

// The identifiers of a bundle without verifying it (to report which bundle was refused).
// Never trust these for anything else.
struct bundle_label
{
    std::int64_t assignment = 0;
    std::int64_t version = 0;
};
[[nodiscard]] std::optional<bundle_label> peek_bundle_label(std::string_view text) noexcept;

// SHA-256 of the DER SubjectPublicKeyInfo of a P-256 public point: the pin the join token carries
// (what `openssl pkey -pubin -outform DER | sha256sum` prints). 32 raw bytes; "" when the point
// is not 65 bytes.
[[nodiscard]] std::string
p256_spki_sha256(std::string_view public_point, const crypto_port& crypto);

} // namespace certfleet::deploy

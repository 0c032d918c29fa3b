#pragma once
// HPKE (RFC 9180) base mode, single-shot, for one suite: DHKEM(P-256, HKDF-SHA256) (KEM 0x0010),
// HKDF-SHA256 (KDF 0x0001), AES-128-GCM (AEAD 0x0001) or AES-256-GCM (AEAD 0x0002). Built on the
// crypto_port primitives so the same code runs on OpenSSL and on CNG; proven against the RFC 9180
// appendix A test vectors.

#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"
#include "deploy/crypto_port.hpp"

namespace certfleet::deploy {

enum class hpke_aead
{
    aes_128_gcm = 0x0001,
    aes_256_gcm = 0x0002,
};

struct hpke_sealed
{
    std::string enc;        // the encapsulated key: 65 bytes
    std::string ciphertext; // || tag
};

// The single-shot context of SetupBaseS / SetupBaseR (RFC 9180 5.1.1): what hpke_seal and
// hpke_open use, exposed so that each step can be checked against the appendix A vectors.
struct hpke_context
{
    std::string enc;            // 65 bytes
    core::secret shared_secret; // 32 bytes
    core::secret key;           // Nk: 16 or 32 bytes
    core::secret base_nonce;    // 12 bytes: the nonce of sequence number 0
};

// SetupBaseS. Errors: crypto_failure (also for a recipient point not on the curve).
[[nodiscard]] boost::system::result<hpke_context> hpke_setup_sender(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_public_point,
    std::string_view info,
    std::string_view ephemeral_scalar = {}
);

// SetupBaseR. Errors: unseal_failed (an enc that is not a point on the curve, a bad scalar).
[[nodiscard]] boost::system::result<hpke_context> hpke_setup_recipient(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_private_scalar,
    std::string_view enc,
    std::string_view info
);

// SealBase (RFC 9180 6.1). `ephemeral_scalar` fixes skE for the test vectors; empty draws one.
// Errors: crypto_failure (also for a recipient point not on the curve).
[[nodiscard]] boost::system::result<hpke_sealed> hpke_seal(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_public_point,
    std::string_view info,
    std::string_view aad,
    std::string_view plaintext,
    std::string_view ephemeral_scalar = {}
);

// OpenBase (RFC 9180 6.1). Errors: unseal_failed (wrong key, enc, info, aad, tampering, an
// unknown aead).
[[nodiscard]] boost::system::result<core::secret> hpke_open(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_private_scalar,
    std::string_view enc,
    std::string_view info,
    std::string_view aad,
    std::string_view ciphertext
);

// DeriveKeyPair (RFC 9180 7.1.3) for DHKEM(P-256, HKDF-SHA256). Errors: crypto_failure.
[[nodiscard]] boost::system::result<p256_key_pair>
hpke_derive_key_pair(const crypto_port& crypto, std::string_view ikm);

} // namespace certfleet::deploy

#pragma once
// P-256 scalar multiplication in portable C++, for the CNG crypto port:
// - the public point of a private scalar (d * G): CNG imports a private key only together with
//   its public point and offers no way to compute one from the other, yet HPKE's DeriveKeyPair
//   (RFC 9180 7.1.3) and the agent's stored identity start from the scalar alone;
// - ECDH, where bcrypt cannot hand out the raw shared secret (Wine's bcrypt on GnuTLS before 3.8
//   fails BCryptDeriveKey with BCRYPT_KDF_RAW_SECRET).
//
// Arithmetic: Montgomery multiplication modulo p on four 64-bit limbs; the complete projective
// addition formulas for a = -3 (Renes, Costello, Batina 2016, algorithm 4), which have no special
// cases, so the double-and-add-always ladder runs the same operations for every scalar and selects
// with masks, without branches on secret bits.

#include <optional>
#include <string>
#include <string_view>

namespace certfleet::deploy {

// The 65-byte uncompressed point (0x04 || X || Y) of a 32-byte big-endian scalar, or nothing when
// the scalar is not 32 bytes, zero, or not below the group order.
[[nodiscard]] std::optional<std::string> p256_base_mult(std::string_view scalar);

// The X coordinate (32 bytes) of scalar * peer: the ECDH shared secret (SEC 1 3.3.1). Nothing
// when the scalar is invalid (as above) or the peer's point is not an uncompressed point on the
// curve.
[[nodiscard]] std::optional<std::string>
p256_ecdh_x(std::string_view scalar, std::string_view peer_point);

} // namespace certfleet::deploy

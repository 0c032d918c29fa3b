#include "deploy/hpke.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

// RFC 9180 7.1 and 7.2: DHKEM(P-256, HKDF-SHA256) and HKDF-SHA256.
constexpr std::uint16_t kem_id = 0x0010;
constexpr std::uint16_t kdf_id = 0x0001;
constexpr std::size_t hash_size = 32;   // Nh
constexpr std::size_t secret_size = 32; // Nsecret
constexpr std::size_t scalar_size = 32; // Nsk
constexpr std::size_t nonce_size = 12;  // Nn of both AES-GCM suites
constexpr std::string_view version_label = "HPKE-v1";

// The order n of P-256 (SEC 2 2.4.2), big-endian: DeriveKeyPair keeps candidates below it.
constexpr std::array<unsigned char, scalar_size> group_order = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

std::string i2osp(std::size_t value, std::size_t length)
{
    std::string out(length, '\0');
    for (std::size_t i = length; i-- > 0; value >>= 8U) {
        out[i] = static_cast<char>(value & 0xffU);
    }
    return out;
}

// Nk, or 0 for an AEAD we do not implement.
std::size_t key_size(hpke_aead aead) noexcept
{
    switch (aead) {
    case hpke_aead::aes_128_gcm:
        return 16;
    case hpke_aead::aes_256_gcm:
        return 32;
    }
    return 0;
}

// Wipes a string holding key material and keeps its bytes as a secret.
core::secret keep(std::string&& bytes)
{
    return core::secret::adopt(std::move(bytes));
}

// LabeledExtract and LabeledExpand (RFC 9180 4) over HKDF-SHA256 (RFC 5869) built from the
// port's HMAC-SHA256, for one suite_id.
class labeled_kdf
{
public:
    labeled_kdf(const crypto_port& crypto, std::string suite_id)
        : crypto_{crypto}, suite_id_{std::move(suite_id)}
    {}

    [[nodiscard]] boost::system::result<core::secret>
    extract(std::string_view salt, std::string_view label, std::string_view ikm) const
    {
        std::string labeled_ikm;
        labeled_ikm.append(version_label).append(suite_id_).append(label).append(ikm);
        const auto input = keep(std::move(labeled_ikm));
        // RFC 5869 2.2: no salt means HashLen zero bytes (spelt out for every port's HMAC).
        const std::string zeros(hash_size, '\0');
        auto prk = crypto_.hmac_sha256(salt.empty() ? zeros : salt, input.view());
        if (prk.size() != hash_size) {
            return errc::crypto_failure;
        }
        return keep(std::move(prk));
    }

    [[nodiscard]] boost::system::result<core::secret> expand(
        std::string_view prk, std::string_view label, std::string_view info, std::size_t length
    ) const
    {
        if (length == 0 || length > 255 * hash_size || length > 0xffff) {
            return errc::crypto_failure;
        }
        std::string labeled_info = i2osp(length, 2);
        labeled_info.append(version_label).append(suite_id_).append(label).append(info);
        // HKDF-Expand: T(i) = HMAC(PRK, T(i-1) || info || i), OKM = T(1) || T(2) ...
        std::string okm;
        core::secret previous;
        for (std::size_t i = 1; okm.size() < length; ++i) {
            std::string block{previous.view()};
            block.append(labeled_info).append(1, static_cast<char>(i));
            const auto input = keep(std::move(block));
            previous = keep(crypto_.hmac_sha256(prk, input.view()));
            if (previous.size() != hash_size) {
                keep(std::move(okm));
                return errc::crypto_failure;
            }
            okm.append(previous.view());
        }
        okm.resize(length);
        return keep(std::move(okm));
    }

private:
    const crypto_port& crypto_;
    std::string suite_id_;
};

labeled_kdf kem_kdf(const crypto_port& crypto)
{
    return {crypto, "KEM" + i2osp(kem_id, 2)};
}

bool below_order(std::string_view scalar) noexcept
{
    for (std::size_t i = 0; i < scalar_size; ++i) {
        const auto byte = static_cast<unsigned char>(scalar[i]);
        if (byte != group_order[i]) {
            return byte < group_order[i];
        }
    }
    return false; // equal to n
}

bool is_zero(std::string_view scalar) noexcept
{
    for (const char c : scalar) {
        if (c != '\0') {
            return false;
        }
    }
    return true;
}

// ExtractAndExpand (RFC 9180 4.1).
boost::system::result<core::secret>
extract_and_expand(const crypto_port& crypto, std::string_view dh, std::string_view kem_context)
{
    const auto kdf = kem_kdf(crypto);
    auto eae_prk = kdf.extract("", "eae_prk", dh);
    if (!eae_prk) {
        return eae_prk.error();
    }
    return kdf.expand(eae_prk->view(), "shared_secret", kem_context, secret_size);
}

// KeySchedule (RFC 9180 5.1) for mode_base (psk and psk_id empty): fills key and base_nonce.
boost::system::error_code
key_schedule(const crypto_port& crypto, hpke_aead aead, std::string_view info, hpke_context& ctx)
{
    const labeled_kdf kdf{
        crypto,
        "HPKE" + i2osp(kem_id, 2) + i2osp(kdf_id, 2) + i2osp(static_cast<std::size_t>(aead), 2)};
    auto psk_id_hash = kdf.extract("", "psk_id_hash", "");
    auto info_hash = kdf.extract("", "info_hash", info);
    auto secret = kdf.extract(ctx.shared_secret.view(), "secret", "");
    if (!psk_id_hash || !info_hash || !secret) {
        return errc::crypto_failure;
    }
    std::string context(1, '\0'); // mode_base
    context.append(psk_id_hash->view()).append(info_hash->view());
    auto key = kdf.expand(secret->view(), "key", context, key_size(aead));
    auto base_nonce = kdf.expand(secret->view(), "base_nonce", context, nonce_size);
    if (!key || !base_nonce) {
        return errc::crypto_failure;
    }
    ctx.key = std::move(*key);
    ctx.base_nonce = std::move(*base_nonce);
    return {};
}

} // namespace

boost::system::result<p256_key_pair>
hpke_derive_key_pair(const crypto_port& crypto, std::string_view ikm)
{
    const auto kdf = kem_kdf(crypto);
    auto dkp_prk = kdf.extract("", "dkp_prk", ikm);
    if (!dkp_prk) {
        return dkp_prk.error();
    }
    // RFC 9180 7.1.3: candidates until one is a valid scalar; the bitmask is 0xff for P-256.
    for (std::size_t counter = 0; counter < 256; ++counter) {
        auto candidate = kdf.expand(dkp_prk->view(), "candidate", i2osp(counter, 1), scalar_size);
        if (!candidate) {
            return candidate.error();
        }
        if (!is_zero(candidate->view()) && below_order(candidate->view())) {
            return crypto.p256_from_scalar(candidate->view());
        }
    }
    return errc::crypto_failure; // DeriveKeyPairError
}

boost::system::result<hpke_context> hpke_setup_sender(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_public_point,
    std::string_view info,
    std::string_view ephemeral_scalar
)
{
    if (key_size(aead) == 0) {
        return errc::crypto_failure;
    }
    // Encap (RFC 9180 4.1), with a fresh ephemeral key or the given one (the test vectors).
    auto agreed = [&]() -> boost::system::result<crypto_port::ephemeral_agreement> {
        if (ephemeral_scalar.empty()) {
            return crypto.ephemeral_ecdh_p256(recipient_public_point);
        }
        auto ephemeral = crypto.p256_from_scalar(ephemeral_scalar);
        if (!ephemeral) {
            return ephemeral.error();
        }
        auto dh = crypto.ecdh_p256(ephemeral->private_scalar.view(), recipient_public_point);
        if (!dh) {
            return dh.error();
        }
        return crypto_port::ephemeral_agreement{ephemeral->public_point, std::move(*dh)};
    }();
    if (!agreed) {
        return errc::crypto_failure;
    }
    hpke_context ctx;
    ctx.enc = agreed->public_point;
    auto shared = extract_and_expand(
        crypto, agreed->shared.view(), ctx.enc + std::string{recipient_public_point}
    );
    if (!shared) {
        return errc::crypto_failure;
    }
    ctx.shared_secret = std::move(*shared);
    if (key_schedule(crypto, aead, info, ctx)) {
        return errc::crypto_failure;
    }
    return ctx;
}

boost::system::result<hpke_context> hpke_setup_recipient(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_private_scalar,
    std::string_view enc,
    std::string_view info
)
{
    if (key_size(aead) == 0) {
        return errc::unseal_failed;
    }
    // Decap (RFC 9180 4.1): the port refuses an enc that is not a point on the curve.
    auto dh = crypto.ecdh_p256(recipient_private_scalar, enc);
    auto recipient = crypto.p256_from_scalar(recipient_private_scalar);
    if (!dh || !recipient) {
        return errc::unseal_failed;
    }
    hpke_context ctx;
    ctx.enc = std::string{enc};
    auto shared = extract_and_expand(crypto, dh->view(), ctx.enc + recipient->public_point);
    if (!shared) {
        return errc::unseal_failed;
    }
    ctx.shared_secret = std::move(*shared);
    if (key_schedule(crypto, aead, info, ctx)) {
        return errc::unseal_failed;
    }
    return ctx;
}

boost::system::result<hpke_sealed> hpke_seal(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_public_point,
    std::string_view info,
    std::string_view aad,
    std::string_view plaintext,
    std::string_view ephemeral_scalar
)
{
    auto ctx = hpke_setup_sender(crypto, aead, recipient_public_point, info, ephemeral_scalar);
    if (!ctx) {
        return ctx.error();
    }
    // Single shot: sequence number 0, whose nonce is base_nonce itself (RFC 9180 5.2).
    auto ciphertext = crypto.aes_gcm_seal(ctx->key.view(), ctx->base_nonce.view(), aad, plaintext);
    if (!ciphertext) {
        return errc::crypto_failure;
    }
    return hpke_sealed{std::move(ctx->enc), std::move(*ciphertext)};
}

boost::system::result<core::secret> hpke_open(
    const crypto_port& crypto,
    hpke_aead aead,
    std::string_view recipient_private_scalar,
    std::string_view enc,
    std::string_view info,
    std::string_view aad,
    std::string_view ciphertext
)
{
    auto ctx = hpke_setup_recipient(crypto, aead, recipient_private_scalar, enc, info);
    if (!ctx) {
        return ctx.error();
    }
    auto plaintext = crypto.aes_gcm_open(ctx->key.view(), ctx->base_nonce.view(), aad, ciphertext);
    if (!plaintext) {
        return errc::unseal_failed;
    }
    return std::move(*plaintext);
}

} // namespace certfleet::deploy

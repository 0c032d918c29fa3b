#include "deploy/hpke.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/crypto/encoding.hpp"
#include "deploy/errc.hpp"
#include "support/hex.hpp"
#include "support/platform_crypto.hpp"
#include "unit/deploy/forwarding_crypto.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using certfleet::test::from_hex;

namespace {

const certfleet::test::platform_crypto crypto;

// RFC 9180 A.3.1: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base.
namespace a3 {
const std::string info = from_hex("4f6465206f6e2061204772656369616e2055726e");
const std::string ikm_e =
    from_hex("4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e");
const std::string pk_em =
    from_hex("04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b7"
             "8e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4");
const std::string sk_em =
    from_hex("4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb");
const std::string ikm_r =
    from_hex("668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550");
const std::string pk_rm =
    from_hex("04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0"
             "e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0");
const std::string sk_rm =
    from_hex("f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2");
const std::string enc = pk_em;
const std::string shared_secret =
    from_hex("c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8");
const std::string key = from_hex("868c066ef58aae6dc589b6cfdd18f97e");
const std::string base_nonce = from_hex("4e0bc5018beba4bf004cca59");
const std::string pt = from_hex("4265617574792069732074727574682c20747275746820626561757479");

struct encryption
{
    unsigned sequence;
    std::string aad;
    std::string nonce;
    std::string ct;
};

// A.3.1.1
const std::vector<encryption> encryptions = {
    {0, from_hex("436f756e742d30"), from_hex("4e0bc5018beba4bf004cca59"),
     from_hex("5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f"
              "39513434")},
    {1, from_hex("436f756e742d31"), from_hex("4e0bc5018beba4bf004cca58"),
     from_hex("fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06646e0329cbdf3c3cd6"
              "55b28e82")},
    {2, from_hex("436f756e742d32"), from_hex("4e0bc5018beba4bf004cca5b"),
     from_hex("895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b2ccc93e466c28fb55f"
              "ed7a7fec")},
    {4, from_hex("436f756e742d34"), from_hex("4e0bc5018beba4bf004cca5d"),
     from_hex("8787491ee8df99bc99a246c4b3216d3d57ab5076e18fa27133f520703bc70ec999dd36ce042e44f0c3"
              "169a6a8f")},
    {255, from_hex("436f756e742d323535"), from_hex("4e0bc5018beba4bf004ccaa6"),
     from_hex("2ad71c85bf3f45c6eca301426289854b31448bcf8a8ccb1deef3ebd87f60848aa53c538c30a4dac71d"
              "619ee2cd")},
    {256, from_hex("436f756e742d323536"), from_hex("4e0bc5018beba4bf004ccb59"),
     from_hex("10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f367f8ffe5e41cd3e99"
              "62a6afb2")},
};
} // namespace a3

// The CFRG test-vectors.json entry mode 0, kem_id 16, kdf_id 1, aead_id 2 (as carried by Go's
// crypto/hpke/testdata/rfc9180.json, which keeps ikmE, ikmR, skRm, pkRm and enc of each entry
// and folds the encryptions into an accumulated hash we do not reproduce).
namespace aes256 {
const std::string info = a3::info;
const std::string ikm_e =
    from_hex("a90d3417c3da9cb6c6ae19b4b5dd6cc9529a4cc24efb7ae0ace1f31887a8cd6c");
const std::string ikm_r =
    from_hex("a0ce15d49e28bd47a18a97e147582d814b08cbe00109fed5ec27d1b4e9f6f5e3");
const std::string sk_rm =
    from_hex("317f915db7bc629c48fe765587897e01e282d3e8445f79f27f65d031a88082b2");
const std::string pk_rm =
    from_hex("04abc7e49a4c6b3566d77d0304addc6ed0e98512ffccf505e6a8e3eb25c685136f853148544876de76"
             "c0f2ef99cdc3a05ccf5ded7860c7c021238f9e2073d2356c");
const std::string enc =
    from_hex("04c06b4f6bebc7bb495cb797ab753f911aff80aefb86fd8b6fcc35525f3ab5f03e0b21bd31a86c6048"
             "af3cb2d98e0d3bf01da5cc4c39ff5370d331a4f1f7d5a4e0");
} // namespace aes256

std::string hex(std::string_view bytes)
{
    return core::to_hex(bytes);
}

// base_nonce XOR I2OSP(seq, Nn) (RFC 9180 5.2).
std::string nonce_for(std::string_view base_nonce, unsigned sequence)
{
    std::string nonce{base_nonce};
    for (std::size_t i = nonce.size(); i-- > 0 && sequence != 0; sequence >>= 8U) {
        nonce[i] = static_cast<char>(static_cast<unsigned char>(nonce[i]) ^ (sequence & 0xffU));
    }
    return nonce;
}

// Replaces the DeriveKeyPair candidates of counters below `rejected` by `replacement` (all
// 0xff: not below the order; all zero: the zero scalar), to drive the rejection loop.
class rejecting_crypto final : public deploy::test::forwarding_crypto
{
public:
    rejecting_crypto(unsigned rejected, char replacement)
        : rejected_{rejected}, replacement_{replacement}
    {}

    std::string hmac_sha256(std::string_view key, std::string_view data) const override
    {
        // T(1) of LabeledExpand(dkp_prk, "candidate", I2OSP(counter, 1), 32): data ends in
        // "candidate" || counter || 0x01.
        if (data.size() >= 11 && data.substr(data.size() - 11, 9) == "candidate" &&
            static_cast<unsigned char>(data[data.size() - 2]) < rejected_) {
            return std::string(32, replacement_);
        }
        return forwarding_crypto::hmac_sha256(key, data);
    }

private:
    unsigned rejected_;
    char replacement_;
};

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("HPKE DeriveKeyPair gives the RFC 9180 A.3.1 key pairs")
    {
        const auto e = hpke_derive_key_pair(crypto, a3::ikm_e).value();
        CHECK(hex(e.private_scalar.view()) == hex(a3::sk_em));
        CHECK(hex(e.public_point) == hex(a3::pk_em));
        const auto r = hpke_derive_key_pair(crypto, a3::ikm_r).value();
        CHECK(hex(r.private_scalar.view()) == hex(a3::sk_rm));
        CHECK(hex(r.public_point) == hex(a3::pk_rm));
    }

    TEST_CASE("HPKE SetupBaseS and SetupBaseR give the RFC 9180 A.3.1 schedule")
    {
        const auto s =
            hpke_setup_sender(crypto, hpke_aead::aes_128_gcm, a3::pk_rm, a3::info, a3::sk_em)
                .value();
        CHECK(hex(s.enc) == hex(a3::enc));
        CHECK(hex(s.shared_secret.view()) == hex(a3::shared_secret));
        CHECK(hex(s.key.view()) == hex(a3::key));
        CHECK(hex(s.base_nonce.view()) == hex(a3::base_nonce));

        const auto r =
            hpke_setup_recipient(crypto, hpke_aead::aes_128_gcm, a3::sk_rm, a3::enc, a3::info)
                .value();
        CHECK(hex(r.shared_secret.view()) == hex(a3::shared_secret));
        CHECK(hex(r.key.view()) == hex(a3::key));
        CHECK(hex(r.base_nonce.view()) == hex(a3::base_nonce));

        // A.3.1.1: the key and nonce schedule reproduce every listed encryption.
        for (const auto& e : a3::encryptions) {
            CAPTURE(e.sequence);
            const auto nonce = nonce_for(r.base_nonce.view(), e.sequence);
            CHECK(hex(nonce) == hex(e.nonce));
            CHECK(
                hex(crypto.aes_gcm_seal(r.key.view(), nonce, e.aad, a3::pt).value()) == hex(e.ct)
            );
        }
    }

    TEST_CASE("HPKE single-shot seal and open match RFC 9180 A.3.1.1 sequence 0")
    {
        const auto& first = a3::encryptions.front();
        const auto sealed =
            hpke_seal(
                crypto, hpke_aead::aes_128_gcm, a3::pk_rm, a3::info, first.aad, a3::pt, a3::sk_em
            )
                .value();
        CHECK(hex(sealed.enc) == hex(a3::enc));
        CHECK(hex(sealed.ciphertext) == hex(first.ct));
        const auto opened =
            hpke_open(
                crypto, hpke_aead::aes_128_gcm, a3::sk_rm, a3::enc, a3::info, first.aad, first.ct
            )
                .value();
        CHECK(opened.view() == a3::pt);
    }

    TEST_CASE("HPKE with AES-256-GCM matches the CFRG kem 16 kdf 1 aead 2 key pair and enc")
    {
        const auto r = hpke_derive_key_pair(crypto, aes256::ikm_r).value();
        CHECK(hex(r.private_scalar.view()) == hex(aes256::sk_rm));
        CHECK(hex(r.public_point) == hex(aes256::pk_rm));
        const auto e = hpke_derive_key_pair(crypto, aes256::ikm_e).value();
        const auto s =
            hpke_setup_sender(
                crypto, hpke_aead::aes_256_gcm, aes256::pk_rm, aes256::info, e.private_scalar.view()
            )
                .value();
        CHECK(hex(s.enc) == hex(aes256::enc));
        CHECK(s.key.size() == 32);
        const auto rs = hpke_setup_recipient(
                            crypto, hpke_aead::aes_256_gcm, aes256::sk_rm, aes256::enc, aes256::info
        )
                            .value();
        CHECK(hex(rs.key.view()) == hex(s.key.view()));
        CHECK(hex(rs.base_nonce.view()) == hex(s.base_nonce.view()));
        // The AEAD id is part of the key schedule's suite_id: the same KEM output gives another
        // key under AES-128-GCM, not a prefix of this one.
        const auto s128 =
            hpke_setup_sender(
                crypto, hpke_aead::aes_128_gcm, aes256::pk_rm, aes256::info, e.private_scalar.view()
            )
                .value();
        CHECK(hex(s128.shared_secret.view()) == hex(s.shared_secret.view()));
        CHECK(hex(s128.key.view()) != hex(s.key.view().substr(0, 16)));
        CHECK(hex(s128.base_nonce.view()) != hex(s.base_nonce.view()));
    }

    TEST_CASE("HPKE round-trips with a fresh ephemeral key for both AEADs")
    {
        const auto recipient = crypto.generate_p256().value();
        for (const auto aead : {hpke_aead::aes_128_gcm, hpke_aead::aes_256_gcm}) {
            CAPTURE(static_cast<int>(aead));
            for (const std::string& plaintext : {std::string{}, std::string(3000, 'k')}) {
                const auto a =
                    hpke_seal(crypto, aead, recipient.public_point, "info", "aad", plaintext)
                        .value();
                const auto b =
                    hpke_seal(crypto, aead, recipient.public_point, "info", "aad", plaintext)
                        .value();
                CHECK(a.enc.size() == 65);
                CHECK(a.enc != b.enc); // a fresh ephemeral key each time
                CHECK(a.ciphertext.size() == plaintext.size() + 16);
                const auto opened = hpke_open(
                                        crypto, aead, recipient.private_scalar.view(), a.enc,
                                        "info", "aad", a.ciphertext
                )
                                        .value();
                CHECK(opened.view() == plaintext);
            }
        }
    }

    TEST_CASE("HPKE open refuses a wrong key, enc, ciphertext, aad, info or aead")
    {
        const auto recipient = crypto.generate_p256().value();
        const auto other = crypto.generate_p256().value();
        for (const auto aead : {hpke_aead::aes_128_gcm, hpke_aead::aes_256_gcm}) {
            CAPTURE(static_cast<int>(aead));
            const auto s =
                hpke_seal(crypto, aead, recipient.public_point, "info", "aad", "secret").value();
            const auto open = [&](std::string_view sk, std::string_view enc, std::string_view info,
                                  std::string_view aad, std::string_view ct, hpke_aead with) {
                return hpke_open(crypto, with, sk, enc, info, aad, ct);
            };
            const std::string_view sk = recipient.private_scalar.view();
            REQUIRE(open(sk, s.enc, "info", "aad", s.ciphertext, aead).has_value());

            CHECK(
                open(other.private_scalar.view(), s.enc, "info", "aad", s.ciphertext, aead)
                    .error() == errc::unseal_failed
            );
            CHECK(
                open(sk, other.public_point, "info", "aad", s.ciphertext, aead).error() ==
                errc::unseal_failed
            );
            CHECK(
                open(sk, s.enc, "inf0", "aad", s.ciphertext, aead).error() == errc::unseal_failed
            );
            CHECK(
                open(sk, s.enc, "info", "aad ", s.ciphertext, aead).error() == errc::unseal_failed
            );
            CHECK(open(sk, s.enc, "info", "", s.ciphertext, aead).error() == errc::unseal_failed);
            const auto wrong_aead =
                aead == hpke_aead::aes_128_gcm ? hpke_aead::aes_256_gcm : hpke_aead::aes_128_gcm;
            CHECK(
                open(sk, s.enc, "info", "aad", s.ciphertext, wrong_aead).error() ==
                errc::unseal_failed
            );
            CHECK(
                open(sk, s.enc, "info", "aad", s.ciphertext, static_cast<hpke_aead>(3)).error() ==
                errc::unseal_failed
            );
            CHECK(
                open(sk, s.enc, "info", "aad", s.ciphertext.substr(0, 15), aead).error() ==
                errc::unseal_failed
            );
            CHECK(open(sk, s.enc, "info", "aad", "", aead).error() == errc::unseal_failed);
            CHECK(open(sk, "", "info", "aad", s.ciphertext, aead).error() == errc::unseal_failed);
            CHECK(
                open(sk, s.enc.substr(0, 33), "info", "aad", s.ciphertext, aead).error() ==
                errc::unseal_failed
            );
            CHECK(
                open("", s.enc, "info", "aad", s.ciphertext, aead).error() == errc::unseal_failed
            );
            for (std::size_t i = 0; i < s.enc.size(); ++i) {
                auto enc = s.enc;
                enc[i] = static_cast<char>(enc[i] ^ 0x01);
                CAPTURE(i);
                CHECK(
                    open(sk, enc, "info", "aad", s.ciphertext, aead).error() == errc::unseal_failed
                );
            }
            for (std::size_t i = 0; i < s.ciphertext.size(); ++i) {
                auto ct = s.ciphertext;
                ct[i] = static_cast<char>(ct[i] ^ 0x80);
                CAPTURE(i);
                CHECK(open(sk, s.enc, "info", "aad", ct, aead).error() == errc::unseal_failed);
            }
        }
    }

    TEST_CASE("HPKE seal refuses a recipient point off the curve or of the wrong form")
    {
        auto bad = a3::pk_rm;
        bad.back() = static_cast<char>(bad.back() ^ 0x01); // same X, another Y: off the curve
        CHECK(
            hpke_seal(crypto, hpke_aead::aes_128_gcm, bad, "", "", "x").error() ==
            errc::crypto_failure
        );
        auto compressed = a3::pk_rm.substr(0, 33);
        compressed[0] = '\x02';
        CHECK(
            hpke_seal(crypto, hpke_aead::aes_128_gcm, compressed, "", "", "x").error() ==
            errc::crypto_failure
        );
        CHECK(
            hpke_seal(crypto, hpke_aead::aes_128_gcm, "", "", "", "x").error() ==
            errc::crypto_failure
        );
        CHECK(
            hpke_seal(crypto, static_cast<hpke_aead>(3), a3::pk_rm, "", "", "x").error() ==
            errc::crypto_failure
        );
    }

    TEST_CASE("HPKE DeriveKeyPair draws again past a candidate not below the order or zero")
    {
        // RFC 9180 7.1.3: the candidate of counter 1 when counter 0 is refused, computed here
        // from the definitions: dkp_prk = LabeledExtract("", "dkp_prk", ikm) and
        // candidate(1) = HMAC(dkp_prk, I2OSP(32, 2) || "HPKE-v1" || suite_id || "candidate" ||
        // 0x01 || 0x01).
        const std::string suite_id{"KEM\x00\x10", 5};
        const auto prk =
            crypto.hmac_sha256(std::string(32, '\0'), "HPKE-v1" + suite_id + "dkp_prk" + a3::ikm_r);
        const auto second = crypto.hmac_sha256(
            prk, std::string{"\x00\x20", 2} + "HPKE-v1" + suite_id + "candidate\x01\x01"
        );
        for (const char replacement : {'\xff', '\x00'}) {
            const rejecting_crypto rejecting{1, replacement};
            const auto r = hpke_derive_key_pair(rejecting, a3::ikm_r).value();
            CHECK(hex(r.private_scalar.view()) == hex(second));
            CHECK(hex(r.private_scalar.view()) != hex(a3::sk_rm));
        }
        const rejecting_crypto none_valid{256, '\xff'};
        CHECK(hpke_derive_key_pair(none_valid, a3::ikm_r).error() == errc::crypto_failure);
    }
}

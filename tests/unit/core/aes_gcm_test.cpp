#include "core/crypto/aes_gcm.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/crypto/encoding.hpp"
#include "core/errc.hpp"
#include "support/hex.hpp"

using namespace certfleet::core;
using certfleet::test::from_hex;

namespace {

// The GCM specification's test cases 4 (AES-128) and 16 (AES-256) (McGrew and Viega, "The
// Galois/Counter Mode of Operation", appendix B): a 60-byte plaintext with 20 bytes of AAD.
const std::string key256 =
    from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
const std::string plaintext =
    from_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532f"
             "cf0e2449a6b525b16aedf5aa0de657ba637b39");
const std::string aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
const std::string nonce = from_hex("cafebabefacedbaddecaf888");
const std::string sealed128 =
    from_hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d"
             "8f6a5aac84aa051ba30b396a0aac973d58e091"
             "5bc94fbc3221a5db94fae95ae7121a47");
const std::string sealed256 =
    from_hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7"
             "b08b1056828838c5f61e6393ba7a0abcc9f662"
             "76fc6ece0f4e1768cddf8853bb2d551b");

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("AES-GCM with the caller's nonce matches the GCM test cases 4 and 16")
    {
        const auto key128 = key256.substr(0, 16);
        CHECK(to_hex(aes_gcm_seal(key128, nonce, aad, plaintext).value()) == to_hex(sealed128));
        CHECK(to_hex(aes_gcm_seal(key256, nonce, aad, plaintext).value()) == to_hex(sealed256));
        CHECK(aes_gcm_open(key128, nonce, aad, sealed128).value().view() == plaintext);
        CHECK(aes_gcm_open(key256, nonce, aad, sealed256).value().view() == plaintext);
    }

    TEST_CASE("AES-GCM open fails on any change of key, nonce, aad or sealed bytes")
    {
        for (std::size_t i = 0; i < sealed256.size(); ++i) {
            auto tampered = sealed256;
            tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
            CAPTURE(i);
            CHECK(
                aes_gcm_open(key256, nonce, aad, tampered).error() == errc::authentication_failed
            );
        }
        auto other_key = key256;
        other_key[0] = 'x';
        auto other_nonce = nonce;
        other_nonce[11] = 'x';
        CHECK(
            aes_gcm_open(other_key, nonce, aad, sealed256).error() == errc::authentication_failed
        );
        CHECK(
            aes_gcm_open(key256, other_nonce, aad, sealed256).error() == errc::authentication_failed
        );
        CHECK(aes_gcm_open(key256, nonce, "", sealed256).error() == errc::authentication_failed);
        CHECK(
            aes_gcm_open(key256.substr(0, 16), nonce, aad, sealed256).error() ==
            errc::authentication_failed
        );
        CHECK(
            aes_gcm_open(key256, nonce, aad, sealed256.substr(0, 15)).error() ==
            errc::authentication_failed
        );
        CHECK(
            aes_gcm_open(key256, nonce, aad, sealed256.substr(1)).error() ==
            errc::authentication_failed
        );
    }

    TEST_CASE("AES-GCM refuses key and nonce sizes other than 16 or 32 and 12")
    {
        CHECK(
            aes_gcm_seal(key256.substr(0, 24), nonce, aad, plaintext).error() ==
            errc::invalid_argument
        );
        CHECK(
            aes_gcm_seal(key256, nonce.substr(0, 8), aad, plaintext).error() ==
            errc::invalid_argument
        );
        CHECK(aes_gcm_seal("", nonce, aad, plaintext).error() == errc::invalid_argument);
        CHECK(
            aes_gcm_open(key256.substr(0, 24), nonce, aad, sealed256).error() ==
            errc::invalid_argument
        );
        CHECK(aes_gcm_open(key256, nonce + "x", aad, sealed256).error() == errc::invalid_argument);
    }
}

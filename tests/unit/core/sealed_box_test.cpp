#include "core/crypto/sealed_box.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/errc.hpp"

using namespace certfleet::core;

namespace {

const std::string key(32, '\x42');
const std::string other_key(32, '\x43');
constexpr std::string_view ad = "certfleet/key/42";

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("AES-256-GCM sealing round-trips (DESIGN 7)")
    {
        for (const std::string& plaintext :
             {std::string{}, std::string{"k"}, std::string(5000, 'x')}) {
            const auto sealed = seal_aes256gcm(key, plaintext, ad).value();
            CHECK(sealed.size() == plaintext.size() + sealed_box_overhead);
            CHECK(sealed[0] == '\x01');
            const auto opened = open_aes256gcm(key, sealed, ad).value();
            CHECK(opened.view() == plaintext);
        }
    }

    TEST_CASE("each seal uses a fresh nonce")
    {
        const auto a = seal_aes256gcm(key, "same", ad).value();
        const auto b = seal_aes256gcm(key, "same", ad).value();
        CHECK(a.substr(1, 12) != b.substr(1, 12));
        CHECK(a != b);
    }

    TEST_CASE("tampering, a wrong key or wrong associated data fail cleanly (SP 800-38D 7.2)")
    {
        const auto sealed = seal_aes256gcm(key, "private key material", ad).value();
        // Every byte after the version: nonce, ciphertext and tag.
        for (std::size_t i = 1; i < sealed.size(); ++i) {
            auto tampered = sealed;
            tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
            CAPTURE(i);
            CHECK(open_aes256gcm(key, tampered, ad).error() == errc::authentication_failed);
        }
        CHECK(open_aes256gcm(other_key, sealed, ad).error() == errc::authentication_failed);
        CHECK(
            open_aes256gcm(key, sealed, "certfleet/key/43").error() == errc::authentication_failed
        );
        CHECK(open_aes256gcm(key, sealed, "").error() == errc::authentication_failed);
        CHECK(open_aes256gcm(key, sealed + "x", ad).error() == errc::authentication_failed);
    }

    TEST_CASE("short input, an unknown version or a bad key size are refused")
    {
        const auto sealed = seal_aes256gcm(key, "x", ad).value();
        CHECK(open_aes256gcm(key, "", ad).error() == errc::corrupt_data);
        CHECK(
            open_aes256gcm(key, sealed.substr(0, sealed_box_overhead - 1), ad).error() ==
            errc::corrupt_data
        );
        auto wrong_version = sealed;
        wrong_version[0] = '\x02';
        CHECK(open_aes256gcm(key, wrong_version, ad).error() == errc::corrupt_data);
        CHECK(seal_aes256gcm(key.substr(1), "x", ad).error() == errc::invalid_argument);
        CHECK(open_aes256gcm(key + "x", sealed, ad).error() == errc::invalid_argument);
    }

    TEST_CASE("a secret moves without copies and adopts strings by wiping them")
    {
        secret a{"hunter2"};
        CHECK(a.view() == "hunter2");
        secret b = std::move(a);
        CHECK(b.view() == "hunter2");
        CHECK(a.empty()); // NOLINT(bugprone-use-after-move): documented moved-from state
        std::string text = "short";
        const auto adopted = secret::adopt(std::move(text));
        CHECK(adopted.view() == "short");
        CHECK(text.empty()); // NOLINT(bugprone-use-after-move)
        auto sized = secret::with_size(4);
        CHECK(sized.view() == std::string(4, '\0'));
    }
}

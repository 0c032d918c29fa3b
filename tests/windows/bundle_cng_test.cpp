// Bundles sealed, signed, verified and opened with the CNG port: the same portable code as on
// Linux (bundle.cpp, hpke.cpp), with every refusal the agent relies on.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "core/crypto/encoding.hpp"
#include "deploy/bundle.hpp"
#include "deploy/errc.hpp"

#include "windows/cng_crypto.hpp"

using namespace certfleet;
using namespace certfleet::deploy;

namespace {

const cng_crypto crypto;

std::string leaf_pem()
{
    std::ifstream in(CERTFLEET_TEST_DATA "/crypto/leaf.pem", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    REQUIRE(!text.str().empty());
    return text.str();
}

std::string der_of(std::string_view pem)
{
    const std::string_view begin = "-----BEGIN CERTIFICATE-----";
    const auto start = pem.find(begin) + begin.size();
    const auto end = pem.find("-----END CERTIFICATE-----");
    std::string base64;
    for (const char c : pem.substr(start, end - start)) {
        if (c != '\n' && c != '\r') {
            base64 += c;
        }
    }
    return core::base64_decode(base64).value();
}

struct world
{
    p256_key_pair agent = crypto.generate_p256().value();
    p256_key_pair other_agent = crypto.generate_p256().value();
    p256_key_pair signer = crypto.generate_p256().value();
    p256_key_pair other_signer = crypto.generate_p256().value();
    bundle contents = [] {
        bundle b;
        b.agent = "rras-01";
        b.assignment = 3;
        b.certificate = 9;
        b.version = 42;
        b.target = "rras";
        b.names = {"vpn.example.test"};
        b.chain_pem = leaf_pem();
        const auto der = der_of(b.chain_pem);
        b.sha1_hex = core::to_hex(crypto.sha1(der));
        b.sha256_hex = core::to_hex(crypto.sha256(der));
        b.serial_hex = "01";
        b.not_before = std::chrono::sys_days{std::chrono::year{2025} / 1 / 1};
        b.not_after = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
        b.pfx = "not really a PFX: the agent passes it on";
        b.key_pem = core::secret{"-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n"};
        b.pfx_password = core::secret{"Pfx-pa55word"};
        return b;
    }();
    std::string text =
        seal_and_sign_bundle(contents, agent.public_point, signer.private_scalar.view(), crypto)
            .value();

    [[nodiscard]] open_bundle_options options(std::optional<std::int64_t> deployed = {}) const
    {
        return {
            .agent = "rras-01",
            .agent_private_scalar = agent.private_scalar.view(),
            .signing_public_point = signer.public_point,
            .deployed_version = deployed};
    }
};

} // namespace

TEST_SUITE("windows")
{
    TEST_CASE("a bundle sealed and signed on CNG opens with its secrets")
    {
        const world w;
        const auto b = open_bundle(w.text, w.options(41), crypto).value();
        CHECK(b.version == 42);
        CHECK(b.chain_pem == w.contents.chain_pem);
        CHECK(b.sha256_hex == w.contents.sha256_hex);
        CHECK(b.pfx == w.contents.pfx);
        CHECK(b.key_pem.view() == w.contents.key_pem.view());
        CHECK(b.pfx_password.view() == "Pfx-pa55word");
        CHECK(w.text.find("Pfx-pa55word") == std::string::npos);
    }

    TEST_CASE("CNG refuses tampered, foreign, misdirected and replayed bundles")
    {
        const world w;
        // Tampered: one character of the payload changed.
        auto tampered = w.text;
        const auto payload = tampered.find("\"payload\":\"") + 20;
        tampered[payload] = tampered[payload] == 'A' ? 'B' : 'A';
        CHECK(open_bundle(tampered, w.options(), crypto).error() == errc::bad_signature);
        // Foreign: signed by a key other than the pinned one.
        const auto foreign =
            seal_and_sign_bundle(
                w.contents, w.agent.public_point, w.other_signer.private_scalar.view(), crypto
            )
                .value();
        CHECK(open_bundle(foreign, w.options(), crypto).error() == errc::bad_signature);
        // Replayed: not newer than the deployed version.
        CHECK(open_bundle(w.text, w.options(42), crypto).error() == errc::replayed_bundle);
        CHECK(open_bundle(w.text, w.options(43), crypto).error() == errc::replayed_bundle);
        // For another agent's name, and sealed to another agent's key.
        auto other_name = w.options();
        other_name.agent = "rras-02";
        CHECK(open_bundle(w.text, other_name, crypto).error() == errc::wrong_agent);
        const auto to_other =
            seal_and_sign_bundle(
                w.contents, w.other_agent.public_point, w.signer.private_scalar.view(), crypto
            )
                .value();
        CHECK(open_bundle(to_other, w.options(), crypto).error() == errc::unseal_failed);
    }
}

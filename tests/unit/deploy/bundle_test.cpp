#include "deploy/bundle.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/self_signed.hpp"
#include "deploy/errc.hpp"
#include "deploy/hpke.hpp"
#include "deploy/openssl_crypto.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using json = nlohmann::json;

namespace {

const openssl_crypto crypto;
constexpr std::string_view pfx_password = "Pfx-pa55word";

struct certificate
{
    core::private_key key;
    std::string pem;
    core::certificate_info info;
};

certificate make_certificate(const std::string& name)
{
    auto key = core::private_key::generate(core::key_type::ec_p256).value();
    auto pem =
        core::make_self_signed_certificate(key, {.common_name = name, .dns_names = {name}}).value();
    auto info = core::parse_pem_chain(pem).value().front();
    return {std::move(key), std::move(pem), std::move(info)};
}

bundle make_bundle(const certificate& cert)
{
    bundle b;
    b.agent = "rras-01";
    b.assignment = 3;
    b.certificate = 9;
    b.version = 42;
    b.target = "rras";
    b.target_options = {{"restart", true}, {"port", 443}};
    b.names = cert.info.dns_names;
    b.chain_pem = cert.pem;
    b.sha1_hex = core::to_hex(cert.info.sha1_fingerprint);
    b.sha256_hex = core::to_hex(cert.info.sha256_fingerprint);
    b.serial_hex = core::to_hex(cert.info.serial);
    b.not_before = cert.info.not_before;
    b.not_after = cert.info.not_after;
    b.pfx = core::make_pkcs12(cert.key, cert.pem, pfx_password, "vpn").value();
    b.key_pem = core::secret::adopt(cert.key.to_pem());
    b.pfx_password = core::secret{pfx_password};
    return b;
}

struct world
{
    p256_key_pair agent = crypto.generate_p256().value();
    p256_key_pair other_agent = crypto.generate_p256().value();
    p256_key_pair signer = crypto.generate_p256().value();
    p256_key_pair other_signer = crypto.generate_p256().value();
    certificate cert = make_certificate("vpn.example.test");
    bundle contents = make_bundle(cert);
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

    [[nodiscard]] boost::system::error_code open_error(std::string_view t) const
    {
        auto r = open_bundle(t, options(), crypto);
        REQUIRE_FALSE(r.has_value());
        return r.error();
    }

    // The bundle with its manifest changed by `edit`, signed again with the real signing key:
    // what a server bug (not an attacker) would produce.
    [[nodiscard]] std::string resign(const std::function<void(json&)>& edit) const
    {
        auto jws = json::parse(text);
        auto manifest =
            json::parse(core::base64url_decode(jws["payload"].get<std::string>()).value());
        edit(manifest);
        jws["payload"] = core::base64url_encode(manifest.dump());
        const auto input =
            jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
        jws["signature"] =
            core::base64url_encode(crypto.sign_es256(signer.private_scalar.view(), input).value());
        return jws.dump();
    }

    // The envelope changed by `edit`, signature untouched.
    [[nodiscard]] std::string edit_envelope(const std::function<void(json&)>& edit) const
    {
        auto jws = json::parse(text);
        edit(jws);
        return jws.dump();
    }
};

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("a bundle round-trips with every field and its secrets (DESIGN 6)")
    {
        const world w;
        const auto b = open_bundle(w.text, w.options(41), crypto).value();
        CHECK(b.agent == "rras-01");
        CHECK(b.assignment == 3);
        CHECK(b.certificate == 9);
        CHECK(b.version == 42);
        CHECK(b.target == "rras");
        CHECK(b.target_options == w.contents.target_options);
        CHECK(b.names == std::vector<std::string>{"vpn.example.test"});
        CHECK(b.chain_pem == w.cert.pem);
        CHECK(b.sha1_hex == core::to_hex(w.cert.info.sha1_fingerprint));
        CHECK(b.sha256_hex == core::to_hex(w.cert.info.sha256_fingerprint));
        CHECK(b.serial_hex == core::to_hex(w.cert.info.serial));
        CHECK(b.not_before == w.cert.info.not_before);
        CHECK(b.not_after == w.cert.info.not_after);
        CHECK(b.pfx == w.contents.pfx);
        CHECK(b.pfx_password.view() == pfx_password);
        // The key that comes out is the leaf's.
        const auto key = core::private_key::from_pem(b.key_pem.view()).value();
        CHECK(core::certificate_matches_key(w.cert.info, key));
        // No secret travels in clear, and each sealing is fresh.
        CHECK(w.text.find("PRIVATE KEY") == std::string::npos);
        CHECK(w.text.find(pfx_password) == std::string::npos);
        const auto again =
            seal_and_sign_bundle(
                w.contents, w.agent.public_point, w.signer.private_scalar.view(), crypto
            )
                .value();
        CHECK(again != w.text);
        CHECK(open_bundle(again, w.options(), crypto).has_value());
    }

    TEST_CASE("the manifest is a flattened ES256 JWS with the bundle media type")
    {
        const world w;
        const auto jws = json::parse(w.text);
        CHECK(jws.size() == 3);
        const auto header =
            json::parse(core::base64url_decode(jws["protected"].get<std::string>()).value());
        CHECK(header == json{{"alg", "ES256"}, {"typ", "certfleet-bundle+jws"}});
        const auto manifest =
            json::parse(core::base64url_decode(jws["payload"].get<std::string>()).value());
        CHECK(manifest["format"] == "certfleet-bundle/1");
        CHECK(manifest["not_before"].get<std::string>().back() == 'Z');
        CHECK(manifest["sealed"]["suite"] == "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM");
        const auto input =
            jws["protected"].get<std::string>() + "." + jws["payload"].get<std::string>();
        const auto signature = core::base64url_decode(jws["signature"].get<std::string>()).value();
        CHECK(crypto.verify_es256(w.signer.public_point, input, signature));
    }

    TEST_CASE("a bundle whose version is not newer than the deployed one is a replay")
    {
        const world w;
        CHECK(open_bundle(w.text, w.options(41), crypto).has_value());
        CHECK(open_bundle(w.text, w.options(42), crypto).error() == errc::replayed_bundle);
        CHECK(open_bundle(w.text, w.options(43), crypto).error() == errc::replayed_bundle);
        CHECK(open_bundle(w.text, w.options(), crypto).has_value());
    }

    TEST_CASE("a changed payload, header or signature, or another signer, fails the signature")
    {
        const world w;
        // The payload with one field changed but not signed again.
        const auto changed = w.edit_envelope([](json& jws) {
            auto m = json::parse(core::base64url_decode(jws["payload"].get<std::string>()).value());
            m["version"] = 43;
            jws["payload"] = core::base64url_encode(m.dump());
        });
        CHECK(w.open_error(changed) == errc::bad_signature);
        // The same header with its members in another order: other bytes, same meaning.
        const auto reordered = w.edit_envelope([](json& jws) {
            jws["protected"] =
                core::base64url_encode(R"({"typ":"certfleet-bundle+jws","alg":"ES256"})");
        });
        CHECK(w.open_error(reordered) == errc::bad_signature);
        for (const std::size_t at : {0U, 31U, 32U, 63U}) {
            const auto flipped = w.edit_envelope([at](json& jws) {
                auto sig = core::base64url_decode(jws["signature"].get<std::string>()).value();
                sig[at] = static_cast<char>(sig[at] ^ 0x01);
                jws["signature"] = core::base64url_encode(sig);
            });
            CAPTURE(at);
            CHECK(w.open_error(flipped) == errc::bad_signature);
        }
        const auto forged =
            seal_and_sign_bundle(
                w.contents, w.agent.public_point, w.other_signer.private_scalar.view(), crypto
            )
                .value();
        CHECK(w.open_error(forged) == errc::bad_signature);
        // A pinned point that is not a point at all verifies nothing.
        auto options = w.options();
        options.signing_public_point = "";
        CHECK(open_bundle(w.text, options, crypto).error() == errc::bad_signature);
    }

    TEST_CASE("a bundle for another agent is refused before its secrets are touched")
    {
        const world w;
        auto options = w.options();
        options.agent = "rras-02";
        CHECK(open_bundle(w.text, options, crypto).error() == errc::wrong_agent);
        // Even when that agent holds the right key: the id decides.
        options.agent = "RRAS-01";
        CHECK(open_bundle(w.text, options, crypto).error() == errc::wrong_agent);
    }

    TEST_CASE("secrets sealed to another key or moved to another bundle do not open")
    {
        const world w;
        const auto to_other =
            seal_and_sign_bundle(
                w.contents, w.other_agent.public_point, w.signer.private_scalar.view(), crypto
            )
                .value();
        CHECK(w.open_error(to_other) == errc::unseal_failed);
        // The sealed part is bound to the identifiers by the aad: a newer version, another
        // assignment or certificate carrying the same sealed blob does not open.
        for (const char* field : {"version", "assignment", "certificate"}) {
            const auto moved = w.resign([field](json& m) { m[field] = m[field].get<int>() + 1; });
            CAPTURE(field);
            CHECK(w.open_error(moved) == errc::unseal_failed);
        }
        // Sealed with the right key and aad but not the secrets' JSON: malformed.
        const auto aad = std::string{"certfleet-bundle/1|rras-01|3|9|42"};
        for (const std::string_view inner : {"not json", R"({"key_pem":""})", R"([1,2])"}) {
            const auto sealed = hpke_seal(
                                    crypto, hpke_aead::aes_256_gcm, w.agent.public_point,
                                    "certfleet bundle", aad, inner
            )
                                    .value();
            const auto text = w.resign([&](json& m) {
                m["sealed"]["enc"] = core::base64_encode(sealed.enc);
                m["sealed"]["ct"] = core::base64_encode(sealed.ciphertext);
            });
            CAPTURE(inner);
            CHECK(w.open_error(text) == errc::malformed_bundle);
        }
        // ... while the same construction with real secrets opens: the aad above is the one used.
        const auto sealed = hpke_seal(
                                crypto, hpke_aead::aes_256_gcm, w.agent.public_point,
                                "certfleet bundle", aad, R"({"key_pem":"k","pfx_password":"p"})"
        )
                                .value();
        const auto good = w.resign([&](json& m) {
            m["sealed"]["enc"] = core::base64_encode(sealed.enc);
            m["sealed"]["ct"] = core::base64_encode(sealed.ciphertext);
        });
        CHECK(open_bundle(good, w.options(), crypto).value().key_pem.view() == "k");
    }

    TEST_CASE("a truncated or oversized bundle is malformed")
    {
        const world w;
        const auto n = w.text.size();
        for (const std::size_t length :
             {std::size_t{0}, std::size_t{1}, std::size_t{20}, n / 4, n / 2, n - 2, n - 1}) {
            CAPTURE(length);
            CHECK(w.open_error(w.text.substr(0, length)) == errc::malformed_bundle);
        }
        // Valid JSON, valid signature, but over the size bound.
        const auto padded = w.text + std::string(max_bundle_bytes - n + 1, ' ');
        CHECK(w.open_error(padded) == errc::malformed_bundle);
        CHECK(open_bundle(w.text + std::string(max_bundle_bytes - n, ' '), w.options(), crypto)
                  .has_value());
    }

    TEST_CASE("a malformed envelope is refused")
    {
        const world w;
        const std::vector<std::pair<const char*, std::function<void(json&)>>> edits = {
            {"array", [](json& j) { j = json::array({j}); }},
            {"unprotected header", [](json& j) { j["header"] = json::object(); }},
            {"no signature", [](json& j) { j.erase("signature"); }},
            {"signature not a string", [](json& j) { j["signature"] = 1; }},
            {"short signature",
             [](json& j) { j["signature"] = core::base64url_encode(std::string(63, 'x')); }},
            {"padded payload",
             [](json& j) { j["payload"] = j["payload"].get<std::string>() + "="; }},
            {"alg none",
             [](json& j) {
                 j["protected"] =
                     core::base64url_encode(R"({"alg":"none","typ":"certfleet-bundle+jws"})");
             }},
            {"other typ",
             [](json& j) {
                 j["protected"] = core::base64url_encode(R"({"alg":"ES256","typ":"JWT"})");
             }},
            {"crit",
             [](json& j) {
                 j["protected"] = core::base64url_encode(
                     R"({"alg":"ES256","typ":"certfleet-bundle+jws","crit":["x"]})"
                 );
             }},
            {"header not JSON", [](json& j) { j["protected"] = core::base64url_encode("{"); }},
        };
        for (const auto& [name, edit] : edits) {
            CAPTURE(name);
            CHECK(w.open_error(w.edit_envelope(edit)) == errc::malformed_bundle);
        }
        CHECK(w.open_error("{}") == errc::malformed_bundle);
        CHECK(w.open_error("null") == errc::malformed_bundle);
    }

    TEST_CASE("a signed manifest with a missing or wrong-typed field is malformed")
    {
        const world w;
        // Each edit is signed again, so only the manifest checks can refuse it.
        const std::vector<std::pair<const char*, std::function<void(json&)>>> edits = {
            {"payload not an object", [](json& m) { m = json::array(); }},
            {"format 2", [](json& m) { m["format"] = "certfleet-bundle/2"; }},
            {"agent number", [](json& m) { m["agent"] = 1; }},
            {"agent empty", [](json& m) { m["agent"] = ""; }},
            {"assignment string", [](json& m) { m["assignment"] = "3"; }},
            {"certificate float", [](json& m) { m["certificate"] = 9.5; }},
            {"version over int64", [](json& m) { m["version"] = std::uint64_t{1} << 63U; }},
            {"target missing", [](json& m) { m.erase("target"); }},
            {"target_options array", [](json& m) { m["target_options"] = json::array(); }},
            {"names string", [](json& m) { m["names"] = "vpn.example.test"; }},
            {"names with a number", [](json& m) { m["names"].push_back(1); }},
            {"chain_pem not PEM", [](json& m) { m["chain_pem"] = "hello"; }},
            {"sha1 upper case",
             [](json& m) {
                 m["sha1"] = core::to_hex(std::string(20, '\xab')).replace(0, 2, "AB");
             }},
            {"sha1 short", [](json& m) { m["sha1"] = m["sha1"].get<std::string>().substr(1); }},
            {"sha256 missing", [](json& m) { m.erase("sha256"); }},
            {"serial empty", [](json& m) { m["serial"] = ""; }},
            {"not_before with offset",
             [](json& m) { m["not_before"] = "2026-03-01T12:00:00+01:00"; }},
            {"not_after February 30", [](json& m) { m["not_after"] = "2026-02-30T12:00:00Z"; }},
            {"pfx not base64", [](json& m) { m["pfx"] = "***"; }},
            {"pfx empty", [](json& m) { m["pfx"] = ""; }},
            {"sealed missing", [](json& m) { m.erase("sealed"); }},
            {"sealed suite unknown", [](json& m) { m["sealed"]["suite"] = "X25519"; }},
            {"sealed enc short",
             [](json& m) { m["sealed"]["enc"] = core::base64_encode(std::string(64, '\x04')); }},
            {"sealed ct not base64", [](json& m) { m["sealed"]["ct"] = "-_"; }},
        };
        for (const auto& [name, edit] : edits) {
            CAPTURE(name);
            CHECK(w.open_error(w.resign(edit)) == errc::malformed_bundle);
        }
        // The unedited manifest signed the same way opens: the refusals above are the edits'.
        CHECK(open_bundle(w.resign([](json&) {}), w.options(), crypto).has_value());
    }

    TEST_CASE("hashes that do not match the leaf's DER are malformed")
    {
        const world w;
        const auto other = make_certificate("other.example.test");
        const auto wrong_sha256 =
            w.resign([&](json& m) { m["sha256"] = core::to_hex(other.info.sha256_fingerprint); });
        CHECK(w.open_error(wrong_sha256) == errc::malformed_bundle);
        const auto wrong_sha1 =
            w.resign([&](json& m) { m["sha1"] = core::to_hex(other.info.sha1_fingerprint); });
        CHECK(w.open_error(wrong_sha1) == errc::malformed_bundle);
        // Another leaf first in the chain: the hashes no longer describe it.
        const auto swapped = w.resign([&](json& m) { m["chain_pem"] = other.pem + w.cert.pem; });
        CHECK(w.open_error(swapped) == errc::malformed_bundle);
        // The server refuses to sign such a bundle in the first place.
        auto b = make_bundle(w.cert);
        b.sha256_hex = core::to_hex(other.info.sha256_fingerprint);
        CHECK(
            seal_and_sign_bundle(b, w.agent.public_point, w.signer.private_scalar.view(), crypto)
                .error() == errc::malformed_bundle
        );
    }

    TEST_CASE("sealing refuses contents it cannot encode or a recipient that is not a point")
    {
        const world w;
        const auto seal = [&](const bundle& b, std::string_view point) {
            return seal_and_sign_bundle(b, point, w.signer.private_scalar.view(), crypto);
        };
        auto b = make_bundle(w.cert);
        b.agent = "bad\xff utf-8";
        CHECK(seal(b, w.agent.public_point).error() == errc::malformed_bundle);
        b = make_bundle(w.cert);
        b.target_options = json::array();
        CHECK(seal(b, w.agent.public_point).error() == errc::malformed_bundle);
        b = make_bundle(w.cert);
        b.key_pem = core::secret{};
        CHECK(seal(b, w.agent.public_point).error() == errc::malformed_bundle);
        b = make_bundle(w.cert);
        b.chain_pem = "";
        CHECK(seal(b, w.agent.public_point).error() == errc::malformed_bundle);
        b = make_bundle(w.cert);
        CHECK(seal(b, w.agent.public_point.substr(0, 33)).error() == errc::crypto_failure);
        CHECK(
            seal_and_sign_bundle(b, w.agent.public_point, "", crypto).error() ==
            errc::crypto_failure
        );
    }

    TEST_CASE("peek_bundle_label reads the identifiers without verifying")
    {
        const world w;
        const auto label = peek_bundle_label(w.text);
        REQUIRE(label.has_value());
        CHECK(label->assignment == 3);
        CHECK(label->version == 42);
        auto b = make_bundle(w.cert);
        b.version = 77;
        const auto forged =
            seal_and_sign_bundle(
                b, w.agent.public_point, w.other_signer.private_scalar.view(), crypto
            )
                .value();
        CHECK(peek_bundle_label(forged).value().version == 77);
        CHECK_FALSE(peek_bundle_label("").has_value());
        CHECK_FALSE(peek_bundle_label(w.text.substr(0, w.text.size() / 2)).has_value());
        CHECK_FALSE(peek_bundle_label(w.resign([](json& m) { m.erase("version"); })).has_value());
    }

    TEST_CASE("p256_spki_sha256 is the SHA-256 of the key's DER SubjectPublicKeyInfo")
    {
        for (int i = 0; i < 3; ++i) {
            const auto key = core::private_key::generate(core::key_type::ec_p256).value();
            const auto& jwk = key.public_jwk();
            const auto point = "\x04" +
                               core::base64url_decode(jwk["x"].get<std::string>()).value() +
                               core::base64url_decode(jwk["y"].get<std::string>()).value();
            CHECK(
                core::to_hex(p256_spki_sha256(point, crypto)) ==
                core::to_hex(core::sha256(key.public_key_der()))
            );
        }
        CHECK(p256_spki_sha256("", crypto).empty());
        CHECK(p256_spki_sha256(std::string(64, '\x04'), crypto).empty());
    }
}

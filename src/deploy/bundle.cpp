#include "deploy/bundle.hpp"

#include <algorithm>
#include <utility>

#include "core/crypto/encoding.hpp"
#include "deploy/bundle_fields.hpp"
#include "deploy/errc.hpp"
#include "deploy/hpke.hpp"

// The manifest (the JWS payload), one JSON object:
//   format          "certfleet-bundle/1"
//   agent           string, the agent's id
//   assignment, certificate, version   integers
//   target          string; target_options: object
//   names           array of strings
//   chain_pem       string, leaf first
//   sha1, sha256    lower-case hex of the hashes of the leaf's DER
//   serial          lower-case hex
//   not_before, not_after   RFC 3339 UTC, "2026-03-01T12:00:00Z"
//   pfx             base64 (RFC 4648 section 4)
//   sealed          {suite, enc, ct}: HPKE base mode to the agent's key, enc and ct in base64;
//                   the plaintext is {"key_pem", "pfx_password"}, the aad binds the identifiers
//                   (aad_of) and the info is "certfleet bundle".

namespace certfleet::deploy {
namespace {

using json = nlohmann::json;

constexpr std::string_view format_v1 = "certfleet-bundle/1";
constexpr std::string_view jws_type = "certfleet-bundle+jws";
constexpr std::string_view hpke_info = "certfleet bundle";
constexpr std::string_view suite_aes256 = "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM";
constexpr std::string_view suite_aes128 = "DHKEM(P-256,HKDF-SHA256)/HKDF-SHA256/AES-128-GCM";
constexpr std::size_t es256_size = 64;
constexpr std::size_t point_size = 65;

// "certfleet-bundle/1|agent|assignment|certificate|version". Unambiguous although an agent id
// may hold '|': the three numbers after it cannot.
std::string aad_of(
    std::string_view agent, std::int64_t assignment, std::int64_t certificate, std::int64_t version
)
{
    std::string aad{format_v1};
    aad.append("|").append(agent);
    for (const auto n : {assignment, certificate, version}) {
        aad.append("|").append(std::to_string(n));
    }
    return aad;
}

std::string signing_input(std::string_view protected_b64, std::string_view payload_b64)
{
    std::string input{protected_b64};
    input.append(".").append(payload_b64);
    return input;
}

// The leaf's hashes as the manifest carries them; nullopt when the chain has no certificate.
struct leaf_hashes
{
    std::string sha1_hex;
    std::string sha256_hex;
};
std::optional<leaf_hashes> hashes_of(std::string_view chain_pem, const crypto_port& crypto)
{
    const auto ders = detail::pem_certificates(chain_pem);
    if (!ders) {
        return std::nullopt;
    }
    return leaf_hashes{
        core::to_hex(crypto.sha1(ders->front())), core::to_hex(crypto.sha256(ders->front()))};
}

std::optional<std::vector<std::string>> names_member(const json& object)
{
    const auto* v = detail::member(object, "names", json::value_t::array);
    if (v == nullptr) {
        return std::nullopt;
    }
    std::vector<std::string> names;
    for (const auto& n : *v) {
        if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
            return std::nullopt;
        }
        names.push_back(n.get<std::string>());
    }
    return names;
}

// ---- the envelope (RFC 7515 7.2.2) ---------------------------------------------------------

struct envelope
{
    std::string_view protected_b64;
    std::string_view payload_b64;
    std::string signature;
    std::string payload;
};

// Only {"protected", "payload", "signature"} with the header we write: nothing unprotected, no
// "crit", no other algorithm.
std::optional<envelope> parse_envelope(const json& jws)
{
    if (!jws.is_object() || jws.size() != 3) {
        return std::nullopt;
    }
    const auto protected_b64 = detail::string_member(jws, "protected");
    const auto payload_b64 = detail::string_member(jws, "payload");
    const auto signature_b64 = detail::string_member(jws, "signature");
    if (!protected_b64 || !payload_b64 || !signature_b64) {
        return std::nullopt;
    }
    auto header_bytes = core::base64url_decode(*protected_b64);
    auto signature = core::base64url_decode(*signature_b64);
    auto payload = core::base64url_decode(*payload_b64);
    if (!header_bytes || !signature || !payload || signature->size() != es256_size) {
        return std::nullopt;
    }
    const auto header = json::parse(*header_bytes, nullptr, false);
    if (header.is_discarded() || !header.is_object() || header.size() != 2 ||
        detail::string_member(header, "alg") != "ES256" ||
        detail::string_member(header, "typ") != jws_type) {
        return std::nullopt;
    }
    return envelope{*protected_b64, *payload_b64, std::move(*signature), std::move(*payload)};
}

// ---- the manifest --------------------------------------------------------------------------

struct sealed_part
{
    hpke_aead aead;
    std::string enc;
    std::string ct;
};

std::optional<sealed_part> parse_sealed(const json& manifest)
{
    const auto* sealed = detail::member(manifest, "sealed", json::value_t::object);
    if (sealed == nullptr) {
        return std::nullopt;
    }
    const auto suite = detail::string_member(*sealed, "suite");
    const auto enc_b64 = detail::string_member(*sealed, "enc");
    const auto ct_b64 = detail::string_member(*sealed, "ct");
    if (!suite || !enc_b64 || !ct_b64 || (*suite != suite_aes256 && *suite != suite_aes128)) {
        return std::nullopt;
    }
    auto enc = core::base64_decode(*enc_b64);
    auto ct = core::base64_decode(*ct_b64);
    if (!enc || !ct || enc->size() != point_size || ct->empty()) {
        return std::nullopt;
    }
    const auto aead = *suite == suite_aes256 ? hpke_aead::aes_256_gcm : hpke_aead::aes_128_gcm;
    return sealed_part{aead, std::move(*enc), std::move(*ct)};
}

// Every public field, its type and its consistency with the chain. Secrets stay empty.
std::optional<bundle> parse_manifest(const json& m, const crypto_port& crypto)
{
    if (!m.is_object() || detail::string_member(m, "format") != format_v1) {
        return std::nullopt;
    }
    const auto agent = detail::string_member(m, "agent");
    const auto assignment = detail::integer_member(m, "assignment");
    const auto certificate = detail::integer_member(m, "certificate");
    const auto version = detail::integer_member(m, "version");
    const auto target = detail::string_member(m, "target");
    const auto* options = detail::member(m, "target_options", json::value_t::object);
    auto names = names_member(m);
    const auto chain = detail::string_member(m, "chain_pem");
    const auto sha1 = detail::string_member(m, "sha1");
    const auto sha256 = detail::string_member(m, "sha256");
    const auto serial = detail::string_member(m, "serial");
    const auto not_before = detail::string_member(m, "not_before");
    const auto not_after = detail::string_member(m, "not_after");
    const auto pfx_b64 = detail::string_member(m, "pfx");
    if (!agent || agent->empty() || !assignment || !certificate || !version || !target ||
        target->empty() || options == nullptr || !names || !chain || !sha1 || !sha256 || !serial ||
        !not_before || !not_after || !pfx_b64 || !detail::is_lower_hex(*sha1, 40) ||
        !detail::is_lower_hex(*sha256, 64) || !detail::is_lower_hex(*serial)) {
        return std::nullopt;
    }
    const auto nb = detail::parse_utc(*not_before);
    const auto na = detail::parse_utc(*not_after);
    auto pfx = core::base64_decode(*pfx_b64);
    const auto hashes = hashes_of(*chain, crypto);
    if (!nb || !na || !pfx || pfx->empty() || !hashes || hashes->sha1_hex != *sha1 ||
        hashes->sha256_hex != *sha256) {
        return std::nullopt;
    }
    bundle out;
    out.agent = std::string{*agent};
    out.assignment = *assignment;
    out.certificate = *certificate;
    out.version = *version;
    out.target = std::string{*target};
    out.target_options = *options;
    out.names = std::move(*names);
    out.chain_pem = std::string{*chain};
    out.sha1_hex = std::string{*sha1};
    out.sha256_hex = std::string{*sha256};
    out.serial_hex = std::string{*serial};
    out.not_before = *nb;
    out.not_after = *na;
    out.pfx = std::move(*pfx);
    return out;
}

// The sealed plaintext {"key_pem", "pfx_password"}; its strings are moved out and wiped.
boost::system::error_code take_secrets(const core::secret& plaintext, bundle& out)
{
    auto secrets = json::parse(plaintext.view(), nullptr, false);
    if (secrets.is_discarded() || !secrets.is_object() || secrets.size() != 2) {
        return errc::malformed_bundle;
    }
    auto key = secrets.find("key_pem");
    auto password = secrets.find("pfx_password");
    if (key == secrets.end() || password == secrets.end() || !key->is_string() ||
        !password->is_string() || key->get_ref<const std::string&>().empty()) {
        return errc::malformed_bundle;
    }
    out.key_pem = core::secret::adopt(std::move(key->get_ref<std::string&>()));
    out.pfx_password = core::secret::adopt(std::move(password->get_ref<std::string&>()));
    return {};
}

// What seal_and_sign_bundle refuses to encode: the same rules open_bundle applies.
bool sealable(const bundle& b, const crypto_port& crypto)
{
    const auto hashes = hashes_of(b.chain_pem, crypto);
    const bool options_ok = b.target_options.is_null() || b.target_options.is_object();
    const bool names_ok =
        std::none_of(b.names.begin(), b.names.end(), [](const auto& n) { return n.empty(); });
    return !b.agent.empty() && !b.target.empty() && options_ok && names_ok && !b.pfx.empty() &&
           !b.key_pem.empty() && hashes && hashes->sha1_hex == b.sha1_hex &&
           hashes->sha256_hex == b.sha256_hex && detail::is_lower_hex(b.serial_hex) &&
           detail::parse_utc(detail::format_utc(b.not_before)) &&
           detail::parse_utc(detail::format_utc(b.not_after));
}

// Throws json::type_error when a string is not valid UTF-8 (only dump() checks).
json manifest_of(const bundle& b, const hpke_sealed& sealed)
{
    return {
        {"format", format_v1},
        {"agent", b.agent},
        {"assignment", b.assignment},
        {"certificate", b.certificate},
        {"version", b.version},
        {"target", b.target},
        {"target_options", b.target_options.is_null() ? json::object() : b.target_options},
        {"names", b.names},
        {"chain_pem", b.chain_pem},
        {"sha1", b.sha1_hex},
        {"sha256", b.sha256_hex},
        {"serial", b.serial_hex},
        {"not_before", detail::format_utc(b.not_before)},
        {"not_after", detail::format_utc(b.not_after)},
        {"pfx", core::base64_encode(b.pfx)},
        {"sealed",
         {{"suite", suite_aes256},
          {"enc", core::base64_encode(sealed.enc)},
          {"ct", core::base64_encode(sealed.ciphertext)}}},
    };
}

// The flattened JWS (RFC 7515 7.2.2) of `payload` under our protected header.
boost::system::result<std::string>
sign(std::string_view payload, std::string_view signing_private_scalar, const crypto_port& crypto)
{
    const json header{{"alg", "ES256"}, {"typ", jws_type}};
    auto protected_b64 = core::base64url_encode(header.dump());
    auto payload_b64 = core::base64url_encode(payload);
    auto signature =
        crypto.sign_es256(signing_private_scalar, signing_input(protected_b64, payload_b64));
    if (!signature) {
        return errc::crypto_failure;
    }
    const json jws{
        {"protected", std::move(protected_b64)},
        {"payload", std::move(payload_b64)},
        {"signature", core::base64url_encode(*signature)}};
    return jws.dump();
}

} // namespace

boost::system::result<std::string> seal_and_sign_bundle(
    const bundle& b,
    std::string_view agent_public_point,
    std::string_view signing_private_scalar,
    const crypto_port& crypto
)
{
    if (!sealable(b, crypto)) {
        return errc::malformed_bundle;
    }
    try {
        const json secrets_json{
            {"key_pem", b.key_pem.view()}, {"pfx_password", b.pfx_password.view()}};
        const auto secrets = core::secret::adopt(secrets_json.dump());
        auto sealed = hpke_seal(
            crypto, hpke_aead::aes_256_gcm, agent_public_point, hpke_info,
            aad_of(b.agent, b.assignment, b.certificate, b.version), secrets.view()
        );
        if (!sealed) {
            return sealed.error();
        }
        return sign(manifest_of(b, *sealed).dump(), signing_private_scalar, crypto);
    } catch (const json::exception&) {
        return errc::malformed_bundle; // a string that is not valid UTF-8
    }
}

boost::system::result<bundle>
open_bundle(std::string_view text, const open_bundle_options& options, const crypto_port& crypto)
{
    if (text.size() > max_bundle_bytes) {
        return errc::malformed_bundle;
    }
    const auto jws = json::parse(text, nullptr, false);
    const auto env = jws.is_discarded() ? std::nullopt : parse_envelope(jws);
    if (!env) {
        return errc::malformed_bundle;
    }
    if (!crypto.verify_es256(
            options.signing_public_point, signing_input(env->protected_b64, env->payload_b64),
            env->signature
        )) {
        return errc::bad_signature;
    }
    const auto manifest = json::parse(env->payload, nullptr, false);
    auto out = manifest.is_discarded() ? std::nullopt : parse_manifest(manifest, crypto);
    const auto sealed = manifest.is_discarded() ? std::nullopt : parse_sealed(manifest);
    if (!out || !sealed) {
        return errc::malformed_bundle;
    }
    if (out->agent != options.agent) {
        return errc::wrong_agent;
    }
    if (options.deployed_version && out->version <= *options.deployed_version) {
        return errc::replayed_bundle;
    }
    auto plaintext = hpke_open(
        crypto, sealed->aead, options.agent_private_scalar, sealed->enc, hpke_info,
        aad_of(out->agent, out->assignment, out->certificate, out->version), sealed->ct
    );
    if (!plaintext) {
        return errc::unseal_failed;
    }
    if (const auto ec = take_secrets(*plaintext, *out)) {
        return ec;
    }
    return std::move(*out);
}

std::optional<bundle_label> peek_bundle_label(std::string_view text) noexcept
{
    try {
        if (text.size() > max_bundle_bytes) {
            return std::nullopt;
        }
        const auto jws = json::parse(text, nullptr, false);
        const auto env = jws.is_discarded() ? std::nullopt : parse_envelope(jws);
        if (!env) {
            return std::nullopt;
        }
        const auto manifest = json::parse(env->payload, nullptr, false);
        if (!manifest.is_object()) {
            return std::nullopt;
        }
        const auto assignment = detail::integer_member(manifest, "assignment");
        const auto version = detail::integer_member(manifest, "version");
        if (!assignment || !version) {
            return std::nullopt;
        }
        return bundle_label{*assignment, *version};
    } catch (...) {
        return std::nullopt; // allocation failure: no label, like any other unreadable bundle
    }
}

std::string p256_spki_sha256(std::string_view public_point, const crypto_port& crypto)
{
    if (public_point.size() != point_size) {
        return {};
    }
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused bits) point }
    // (RFC 5480 section 2): the same 26 bytes for every P-256 key.
    static constexpr std::string_view prefix{
        "\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01"
        "\x07\x03\x42\x00",
        26};
    std::string spki{prefix};
    spki.append(public_point);
    return crypto.sha256(spki);
}

} // namespace certfleet::deploy

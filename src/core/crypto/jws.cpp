#include "core/crypto/jws.hpp"

#include <optional>

#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/jwk.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

// A protected header is a few hundred bytes (a JWK, a URL, a nonce); anything far larger is not
// one of ours and is refused before it is parsed.
constexpr std::size_t max_protected_header = std::size_t{64} * 1024;

// nlohmann::json (and an aggregate holding one) is constructible from an enum, so result<json>
// cannot tell an errc from a value: say which one is meant.
struct failure
{
    errc code;
    template <typename T> operator boost::system::result<T>() const
    {
        return {boost::system::in_place_error, make_error_code(code)};
    }
};

const EVP_MD* digest_for(key_type type) noexcept
{
    return type == key_type::ec_p384 ? EVP_sha384() : EVP_sha256();
}

// RFC 7518 section 3.4: the size of each of R and S.
std::optional<int> ecdsa_field_size(key_type type) noexcept
{
    switch (type) {
    case key_type::ec_p256:
        return 32;
    case key_type::ec_p384:
        return 48;
    default:
        return std::nullopt;
    }
}

// DER ECDSA-Sig-Value (RFC 3279 section 2.2.3) to R || S, each left-padded to `field` bytes.
std::optional<std::string> ecdsa_der_to_raw(std::string_view der, int field)
{
    const unsigned char* p = detail::bytes(der);
    const ecdsa_sig_ptr sig{d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()))};
    if (!sig) {
        return std::nullopt;
    }
    std::string out(2 * static_cast<std::size_t>(field), '\0');
    auto* dest = reinterpret_cast<unsigned char*>(out.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), dest, field) != field ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), dest + field, field) != field) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> ecdsa_raw_to_der(std::string_view raw, int field)
{
    if (raw.size() != 2 * static_cast<std::size_t>(field)) {
        return std::nullopt;
    }
    bignum_ptr r{BN_bin2bn(detail::bytes(raw), field, nullptr)};
    bignum_ptr s{BN_bin2bn(detail::bytes(raw) + field, field, nullptr)};
    ecdsa_sig_ptr sig{ECDSA_SIG_new()};
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        return std::nullopt;
    }
    static_cast<void>(r.release()); // now owned by sig
    static_cast<void>(s.release());
    auto der = detail::to_der(sig.get(), [](ECDSA_SIG* v, unsigned char** out) {
        return i2d_ECDSA_SIG(v, out);
    });
    if (der.empty()) {
        return std::nullopt;
    }
    return der;
}

std::optional<std::string> dump_header(const nlohmann::json& header)
{
    try {
        return header.dump();
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // a string that is not valid UTF-8
    }
}

bool alg_is(const nlohmann::json& header, std::string_view alg)
{
    if (!header.is_object()) {
        return false;
    }
    const auto it = header.find("alg");
    return it != header.end() && it->is_string() && it->get_ref<const std::string&>() == alg;
}

// Splits a flattened JWS into its encoded parts and decoded header. Only the three members ACME
// uses are accepted; "header" (unprotected) and the general serialization are refused.
struct parsed_jws
{
    std::string_view protected_b64;
    std::string_view payload_b64;
    std::string signature;
    nlohmann::json header;
    std::string payload;
};

boost::system::result<parsed_jws> parse(const nlohmann::json& jws)
{
    if (!jws.is_object() || jws.contains("header") || jws.contains("signatures")) {
        return errc::invalid_encoding;
    }
    const auto member = [&](const char* name) -> std::optional<std::string_view> {
        const auto it = jws.find(name);
        if (it == jws.end() || !it->is_string()) {
            return std::nullopt;
        }
        return std::string_view{it->get_ref<const std::string&>()};
    };
    const auto protected_b64 = member("protected");
    const auto payload_b64 = member("payload");
    const auto signature_b64 = member("signature");
    if (!protected_b64 || !payload_b64 || !signature_b64 ||
        protected_b64->size() > max_protected_header * 4 / 3 + 4) {
        return errc::invalid_encoding;
    }
    auto header_bytes = base64url_decode(*protected_b64);
    auto signature = base64url_decode(*signature_b64);
    auto payload = base64url_decode(*payload_b64);
    if (!header_bytes || !signature || !payload) {
        return errc::invalid_encoding;
    }
    auto header = nlohmann::json::parse(*header_bytes, nullptr, false);
    if (header.is_discarded() || !header.is_object()) {
        return errc::invalid_encoding;
    }
    // RFC 7515 section 4.1.11: we understand no extension, so a "crit" header is refused.
    if (header.contains("crit")) {
        return errc::authentication_failed;
    }
    return parsed_jws{
        *protected_b64, *payload_b64, std::move(*signature), std::move(header),
        std::move(*payload)};
}

std::string signing_input(std::string_view protected_b64, std::string_view payload_b64)
{
    std::string input;
    input.reserve(protected_b64.size() + 1 + payload_b64.size());
    input.append(protected_b64).append(1, '.').append(payload_b64);
    return input;
}

verified_jws finish(parsed_jws&& p)
{
    return verified_jws{std::move(p.header), std::move(p.payload)};
}

// The raw signature of `key` of `type` (see jws_signature).
boost::system::result<std::string>
signature_with(EVP_PKEY* key, key_type type, std::string_view signing_input)
{
    const detail::error_queue_guard guard;
    const md_ctx_ptr ctx{EVP_MD_CTX_new()};
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(type), nullptr, key) != 1) {
        return errc::crypto_failure;
    }
    std::size_t size = 0;
    if (EVP_DigestSign(
            ctx.get(), nullptr, &size, detail::bytes(signing_input), signing_input.size()
        ) != 1) {
        return errc::crypto_failure;
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(
            ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
            detail::bytes(signing_input), signing_input.size()
        ) != 1) {
        return errc::crypto_failure;
    }
    signature.resize(size);
    if (const auto field = ecdsa_field_size(type)) {
        auto raw = ecdsa_der_to_raw(signature, *field);
        if (!raw) {
            return errc::crypto_failure;
        }
        return std::move(*raw);
    }
    return signature;
}

} // namespace

boost::system::result<std::string>
jws_signature(const private_key& key, std::string_view signing_input)
{
    return signature_with(key.get(), key.type(), signing_input);
}

boost::system::result<std::string> es256_signature(EVP_PKEY* key, std::string_view signing_input)
{
    if (key_type_of(key) != key_type::ec_p256) {
        return errc::crypto_failure;
    }
    return signature_with(key, key_type::ec_p256, signing_input);
}

std::string jws_signature_hs256(std::string_view mac_key, std::string_view signing_input)
{
    return hmac_sha256(mac_key, signing_input);
}

bool verify_jws_signature(
    EVP_PKEY* public_key, std::string_view signing_input, std::string_view signature
)
{
    const detail::error_queue_guard guard;
    const auto type = key_type_of(public_key);
    if (!type) {
        return false;
    }
    std::string der;
    if (const auto field = ecdsa_field_size(*type)) {
        auto converted = ecdsa_raw_to_der(signature, *field);
        if (!converted) {
            return false;
        }
        der = std::move(*converted);
        signature = der;
    }
    const md_ctx_ptr ctx{EVP_MD_CTX_new()};
    if (!ctx ||
        EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(*type), nullptr, public_key) != 1) {
        return false;
    }
    return EVP_DigestVerify(
               ctx.get(), detail::bytes(signature), signature.size(), detail::bytes(signing_input),
               signing_input.size()
           ) == 1;
}

boost::system::result<nlohmann::json>
sign_jws(const private_key& key, const nlohmann::json& protected_header, std::string_view payload)
{
    if (!alg_is(protected_header, jws_algorithm(key))) {
        return failure{errc::invalid_argument};
    }
    const auto header = dump_header(protected_header);
    if (!header) {
        return failure{errc::invalid_argument};
    }
    auto protected_b64 = base64url_encode(*header);
    auto payload_b64 = base64url_encode(payload);
    auto signature = jws_signature(key, signing_input(protected_b64, payload_b64));
    if (!signature) {
        return signature.error();
    }
    return nlohmann::json{
        {"protected", std::move(protected_b64)},
        {"payload", std::move(payload_b64)},
        {"signature", base64url_encode(*signature)},
    };
}

boost::system::result<nlohmann::json> sign_jws_hs256(
    std::string_view mac_key, const nlohmann::json& protected_header, std::string_view payload
)
{
    if (mac_key.empty() || !alg_is(protected_header, "HS256")) {
        return failure{errc::invalid_argument};
    }
    const auto header = dump_header(protected_header);
    if (!header) {
        return failure{errc::invalid_argument};
    }
    auto protected_b64 = base64url_encode(*header);
    auto payload_b64 = base64url_encode(payload);
    const auto mac = jws_signature_hs256(mac_key, signing_input(protected_b64, payload_b64));
    if (mac.empty()) {
        return failure{errc::crypto_failure};
    }
    return nlohmann::json{
        {"protected", std::move(protected_b64)},
        {"payload", std::move(payload_b64)},
        {"signature", base64url_encode(mac)},
    };
}

boost::system::result<verified_jws> open_jws(const nlohmann::json& jws, EVP_PKEY* public_key)
{
    const auto type = key_type_of(public_key);
    if (!type) {
        return failure{errc::unsupported_key};
    }
    auto parsed = parse(jws);
    if (!parsed) {
        return parsed.error();
    }
    if (!alg_is(parsed->header, jws_algorithm(*type)) ||
        !verify_jws_signature(
            public_key, signing_input(parsed->protected_b64, parsed->payload_b64), parsed->signature
        )) {
        return failure{errc::authentication_failed};
    }
    return finish(std::move(*parsed));
}

boost::system::result<verified_jws>
open_jws_hs256(const nlohmann::json& jws, std::string_view mac_key)
{
    if (mac_key.empty()) {
        return failure{errc::invalid_argument};
    }
    auto parsed = parse(jws);
    if (!parsed) {
        return parsed.error();
    }
    const auto expected =
        jws_signature_hs256(mac_key, signing_input(parsed->protected_b64, parsed->payload_b64));
    if (!alg_is(parsed->header, "HS256") || expected.empty() ||
        !constant_time_equal(expected, parsed->signature)) {
        return failure{errc::authentication_failed};
    }
    return finish(std::move(*parsed));
}

bool verify_jws(const nlohmann::json& jws, EVP_PKEY* public_key)
{
    return open_jws(jws, public_key).has_value();
}

bool verify_jws_hs256(const nlohmann::json& jws, std::string_view mac_key)
{
    return open_jws_hs256(jws, mac_key).has_value();
}

} // namespace certfleet::core

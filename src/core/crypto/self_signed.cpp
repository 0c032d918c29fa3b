#include "core/crypto/self_signed.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

bool plain_text(const std::string& s) noexcept
{
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' || c == '*' ||
                        c == '_';
        if (!ok) {
            return false;
        }
    }
    return !s.empty();
}

bool add_extension(X509* cert, int nid, const std::string& value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) {
        return false;
    }
    const bool added = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return added;
}

} // namespace

boost::system::result<std::string>
make_self_signed_certificate(const private_key& key, const self_signed_request& request)
{
    std::string alt_names;
    for (const auto& n : request.dns_names) {
        if (!plain_text(n)) {
            return errc::invalid_argument;
        }
        alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + n;
    }
    for (const auto& a : request.ip_addresses) {
        if (!plain_text(a)) {
            return errc::invalid_argument;
        }
        alt_names += (alt_names.empty() ? "IP:" : ",IP:") + a;
    }
    if (alt_names.empty() || !plain_text(request.common_name)) {
        return errc::invalid_argument;
    }
    const detail::error_queue_guard guard;
    const x509_ptr cert{X509_new()};
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
        return errc::crypto_failure;
    }
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        return errc::crypto_failure;
    }
    serial[0] &= 0x7f; // a positive INTEGER
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    const bool serial_set =
        bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
    BN_free(bn);
    X509_NAME* name = X509_get_subject_name(cert.get());
    const auto validity =
        std::chrono::duration_cast<std::chrono::seconds>(request.validity).count();
    if (!serial_set ||
        X509_NAME_add_entry_by_NID(
            name, NID_commonName, MBSTRING_ASC, detail::bytes(request.common_name),
            static_cast<int>(request.common_name.size()), -1, 0
        ) != 1 ||
        X509_set_issuer_name(cert.get(), name) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity)) == nullptr ||
        X509_set_pubkey(cert.get(), key.get()) != 1 ||
        !add_extension(cert.get(), NID_subject_alt_name, alt_names) ||
        !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
        !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
        !add_extension(cert.get(), NID_subject_key_identifier, "hash") ||
        X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
        return errc::crypto_failure;
    }
    const bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
        return errc::crypto_failure;
    }
    return detail::memory_bio_contents(bio.get());
}

} // namespace certfleet::core

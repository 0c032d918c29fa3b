#include "core/crypto/pkcs12.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "core/crypto/certificate.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

// OpenSSL's default for `openssl pkcs12 -export`, read by every importer we target.
constexpr int iterations = 2048;

struct pkcs12_deleter
{
    void operator()(PKCS12* p) const noexcept { PKCS12_free(p); }
};
struct x509_stack_deleter
{
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};

x509_ptr x509_of(const certificate_info& info)
{
    const auto* p = detail::bytes(info.der);
    return x509_ptr(d2i_X509(nullptr, &p, static_cast<long>(info.der.size())));
}

} // namespace

boost::system::result<std::string> make_pkcs12(
    const private_key& key,
    std::string_view chain_pem,
    std::string_view password,
    std::string_view friendly_name,
    const pkcs12_options& options
)
{
    const detail::error_queue_guard clear_errors;
    auto chain = parse_pem_chain(chain_pem);
    if (!chain || chain->empty() || !certificate_matches_key(chain->front(), key)) {
        return make_error_code(errc::invalid_certificate);
    }
    auto leaf = x509_of(chain->front());
    std::unique_ptr<STACK_OF(X509), x509_stack_deleter> cas(sk_X509_new_null());
    if (!leaf || !cas) {
        return make_error_code(errc::crypto_failure);
    }
    for (std::size_t i = 1; i < chain->size(); ++i) {
        auto ca = x509_of((*chain)[i]);
        if (!ca || sk_X509_push(cas.get(), ca.get()) == 0) {
            return make_error_code(errc::crypto_failure);
        }
        (void)ca.release(); // owned by the stack now
    }
    const std::string pass(password);
    const std::string name(friendly_name);
    const bool legacy = options.protection == pkcs12_protection::legacy;
    // A cipher NID (not a PBE one) makes PKCS12_create use PBES2; OpenSSL 3 picks
    // PBKDF2 with HMAC-SHA256 for it.
    const int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
    std::unique_ptr<PKCS12, pkcs12_deleter> p12(PKCS12_create(
        pass.c_str(), name.c_str(), key.get(), leaf.get(), cas.get(), nid, nid, iterations, -1, 0
    ));
    if (!p12) {
        return make_error_code(errc::crypto_failure);
    }
    if (PKCS12_set_mac(
            p12.get(), pass.c_str(), -1, nullptr, 0, iterations, legacy ? EVP_sha1() : EVP_sha256()
        ) != 1) {
        return make_error_code(errc::crypto_failure);
    }
    return detail::to_der(p12.get(), i2d_PKCS12);
}

} // namespace certfleet::core

#pragma once
// A throw-away PKI for the TLS tests, generated in memory with OpenSSL: a CA and leaf
// certificates with the subjectAltNames a test asks for (P-256 keys, valid from an hour ago
// for a day). Nothing here is meant to be secure.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace certfleet::test {

struct pki_deleter
{
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};

struct issued
{
    std::unique_ptr<EVP_PKEY, pki_deleter> key;
    std::unique_ptr<X509, pki_deleter> cert;
    std::string cert_pem;
    std::string key_pem;
};

inline void pki_check(bool ok, const char* what)
{
    if (!ok) {
        throw std::runtime_error(std::string("test PKI: ") + what + " failed");
    }
}

inline std::string pki_drain(BIO* bio)
{
    char* data = nullptr;
    const long n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data); // BIO_get_mem_data
    return {data, static_cast<std::size_t>(n)};
}

inline void pki_add_ext(X509* cert, X509* issuer, int nid, const char* value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, pki_deleter> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value)
    );
    pki_check(ext != nullptr, value);
    pki_check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// issuer == nullptr makes a self-signed CA; otherwise a server certificate for sans
// ("IP:127.0.0.1", "DNS:localhost, IP:127.0.0.1").
inline issued pki_issue(const char* common_name, const issued* issuer, const char* sans = nullptr)
{
    static long serial = 1;
    issued out;
    out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    pki_check(out.key != nullptr, "EC key generation");
    out.cert.reset(X509_new());
    X509* cert = out.cert.get();
    pki_check(X509_set_version(cert, 2) == 1, "X509_set_version");
    pki_check(ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial) == 1, "serial");
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
    pki_check(X509_set_pubkey(cert, out.key.get()) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0
    );
    X509* signer = issuer == nullptr ? cert : issuer->cert.get();
    pki_check(X509_set_issuer_name(cert, X509_get_subject_name(signer)) == 1, "issuer name");
    if (issuer == nullptr) {
        pki_add_ext(cert, signer, NID_basic_constraints, "critical,CA:TRUE");
        pki_add_ext(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        pki_add_ext(cert, signer, NID_subject_key_identifier, "hash");
    } else {
        pki_add_ext(cert, signer, NID_basic_constraints, "critical,CA:FALSE");
        pki_add_ext(cert, signer, NID_key_usage, "critical,digitalSignature");
        pki_add_ext(cert, signer, NID_ext_key_usage, "serverAuth");
        pki_add_ext(cert, signer, NID_authority_key_identifier, "keyid");
        pki_add_ext(cert, signer, NID_subject_alt_name, sans);
    }
    EVP_PKEY* signing_key = issuer == nullptr ? out.key.get() : issuer->key.get();
    pki_check(X509_sign(cert, signing_key, EVP_sha256()) > 0, "X509_sign");

    std::unique_ptr<BIO, pki_deleter> cert_bio(BIO_new(BIO_s_mem()));
    pki_check(PEM_write_bio_X509(cert_bio.get(), cert) == 1, "PEM_write_bio_X509");
    out.cert_pem = pki_drain(cert_bio.get());
    std::unique_ptr<BIO, pki_deleter> key_bio(BIO_new(BIO_s_mem()));
    pki_check(
        PEM_write_bio_PrivateKey(
            key_bio.get(), out.key.get(), nullptr, nullptr, 0, nullptr, nullptr
        ) == 1,
        "PEM_write_bio_PrivateKey"
    );
    out.key_pem = pki_drain(key_bio.get());
    return out;
}

} // namespace certfleet::test

#pragma once
// RAII handles for OpenSSL objects: std::unique_ptr with stateless deleter structs, so a handle is
// the size of a pointer and every early return frees what it owns. Deleters accept nullptr.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace certfleet::core {

struct evp_pkey_deleter
{
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct evp_pkey_ctx_deleter
{
    void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct evp_md_ctx_deleter
{
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct evp_cipher_ctx_deleter
{
    void operator()(EVP_CIPHER_CTX* p) const noexcept { EVP_CIPHER_CTX_free(p); }
};
struct x509_deleter
{
    void operator()(X509* p) const noexcept { X509_free(p); }
};
struct x509_req_deleter
{
    void operator()(X509_REQ* p) const noexcept { X509_REQ_free(p); }
};
struct x509_name_deleter
{
    void operator()(X509_NAME* p) const noexcept { X509_NAME_free(p); }
};
struct x509_extensions_deleter
{
    void operator()(STACK_OF(X509_EXTENSION) * p) const noexcept
    {
        sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free);
    }
};
struct general_names_deleter
{
    void operator()(GENERAL_NAMES* p) const noexcept { GENERAL_NAMES_free(p); }
};
struct general_name_deleter
{
    void operator()(GENERAL_NAME* p) const noexcept { GENERAL_NAME_free(p); }
};
struct authority_keyid_deleter
{
    void operator()(AUTHORITY_KEYID* p) const noexcept { AUTHORITY_KEYID_free(p); }
};
struct asn1_string_deleter
{
    void operator()(ASN1_STRING* p) const noexcept { ASN1_STRING_free(p); }
};
struct bio_deleter
{
    void operator()(BIO* p) const noexcept { BIO_free_all(p); }
};
struct bignum_deleter
{
    // BN_clear_free: a BIGNUM may hold a private component.
    void operator()(BIGNUM* p) const noexcept { BN_clear_free(p); }
};
struct ecdsa_sig_deleter
{
    void operator()(ECDSA_SIG* p) const noexcept { ECDSA_SIG_free(p); }
};
struct ec_group_deleter
{
    void operator()(EC_GROUP* p) const noexcept { EC_GROUP_free(p); }
};
struct ec_point_deleter
{
    // EC_POINT_clear_free: a point may be a private product (an ECDH result).
    void operator()(EC_POINT* p) const noexcept { EC_POINT_clear_free(p); }
};
struct bn_ctx_deleter
{
    void operator()(BN_CTX* p) const noexcept { BN_CTX_free(p); }
};
struct param_bld_deleter
{
    void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct params_deleter
{
    // Wipes the block that holds secure BIGNUMs (BN_secure_new) as it frees it.
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
// For buffers OpenSSL allocated for us (i2d_* with a null output, ASN1_STRING_to_UTF8).
struct openssl_free_deleter
{
    void operator()(void* p) const noexcept { OPENSSL_free(p); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, evp_pkey_deleter>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, evp_pkey_ctx_deleter>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, evp_md_ctx_deleter>;
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, evp_cipher_ctx_deleter>;
using x509_ptr = std::unique_ptr<X509, x509_deleter>;
using x509_req_ptr = std::unique_ptr<X509_REQ, x509_req_deleter>;
using x509_name_ptr = std::unique_ptr<X509_NAME, x509_name_deleter>;
using x509_extensions_ptr = std::unique_ptr<STACK_OF(X509_EXTENSION), x509_extensions_deleter>;
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, general_names_deleter>;
using general_name_ptr = std::unique_ptr<GENERAL_NAME, general_name_deleter>;
using authority_keyid_ptr = std::unique_ptr<AUTHORITY_KEYID, authority_keyid_deleter>;
using asn1_string_ptr = std::unique_ptr<ASN1_STRING, asn1_string_deleter>;
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
using bignum_ptr = std::unique_ptr<BIGNUM, bignum_deleter>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_deleter>;
using ec_group_ptr = std::unique_ptr<EC_GROUP, ec_group_deleter>;
using ec_point_ptr = std::unique_ptr<EC_POINT, ec_point_deleter>;
using bn_ctx_ptr = std::unique_ptr<BN_CTX, bn_ctx_deleter>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, param_bld_deleter>;
using params_ptr = std::unique_ptr<OSSL_PARAM, params_deleter>;
using openssl_bytes_ptr = std::unique_ptr<unsigned char, openssl_free_deleter>;
using openssl_chars_ptr = std::unique_ptr<char, openssl_free_deleter>;

} // namespace certfleet::core

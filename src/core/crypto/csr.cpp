#include "core/crypto/csr.hpp"

#include <algorithm>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr std::size_t max_common_name = 64; // ub-common-name, RFC 5280 appendix A.1
constexpr std::size_t max_dns_name = 253;

bool acceptable_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > max_dns_name) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '*';
    });
}

general_names_ptr subject_alt_names(const std::vector<std::string>& dns_names)
{
    general_names_ptr names{sk_GENERAL_NAME_new_null()};
    if (!names) {
        return nullptr;
    }
    for (const auto& dns : dns_names) {
        asn1_string_ptr ia5{ASN1_IA5STRING_new()};
        if (!ia5 || ASN1_STRING_set(ia5.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
            return nullptr;
        }
        general_name_ptr name{GENERAL_NAME_new()};
        if (!name) {
            return nullptr;
        }
        GENERAL_NAME_set0_value(name.get(), GEN_DNS, ia5.release());
        if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) {
            return nullptr;
        }
        static_cast<void>(name.release()); // now owned by the stack
    }
    return names;
}

// Puts the key's SubjectPublicKeyInfo into the request as it is. X509_REQ_set_pubkey would
// encode the key and decode it again (OpenSSL 3 looks up its decoders on every decode, about
// 0.15 ms a request), while the key already carries its SPKI.
bool set_public_key(X509_REQ* req, std::string_view spki)
{
    const unsigned char* p = detail::bytes(spki);
    long length = 0;
    int tag = 0;
    int klass = 0;
    const int header = ASN1_get_object(&p, &length, &tag, &klass, static_cast<long>(spki.size()));
    if ((header & 0x80) != 0 || tag != V_ASN1_SEQUENCE || klass != V_ASN1_UNIVERSAL) {
        return false;
    }
    const unsigned char* end = p + length;
    const std::unique_ptr<X509_ALGOR, decltype(&X509_ALGOR_free)> algorithm{
        d2i_X509_ALGOR(nullptr, &p, end - p), X509_ALGOR_free};
    const asn1_string_ptr key_bits{d2i_ASN1_BIT_STRING(nullptr, &p, end - p)};
    if (!algorithm || !key_bits || p != end) {
        return false;
    }
    const auto bits_size = ASN1_STRING_length(key_bits.get());
    openssl_bytes_ptr bits{static_cast<unsigned char*>(
        OPENSSL_memdup(ASN1_STRING_get0_data(key_bits.get()), static_cast<std::size_t>(bits_size))
    )};
    X509_PUBKEY* public_key = X509_REQ_get_X509_PUBKEY(req);
    // The bits first (set0_param takes them and leaves the algorithm empty), then the algorithm
    // with its parameters, copied whole.
    if (!bits ||
        X509_PUBKEY_set0_param(public_key, nullptr, V_ASN1_UNDEF, nullptr, bits.get(), bits_size) !=
            1) {
        return false;
    }
    static_cast<void>(bits.release()); // owned by the request now
    X509_ALGOR* request_algorithm = nullptr;
    return X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &request_algorithm, public_key) == 1 &&
           X509_ALGOR_copy(request_algorithm, algorithm.get()) == 1;
}

} // namespace

boost::system::result<std::string>
make_csr_der(const private_key& key, const std::vector<std::string>& dns_names)
{
    if (dns_names.empty() || !std::all_of(dns_names.begin(), dns_names.end(), [](const auto& n) {
            return acceptable_name(n);
        })) {
        return errc::invalid_argument;
    }
    const detail::error_queue_guard guard;
    const x509_req_ptr req{X509_REQ_new()};
    if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
        return errc::crypto_failure;
    }
    const auto& first = dns_names.front();
    if (first.size() <= max_common_name) {
        X509_NAME* subject = X509_REQ_get_subject_name(req.get());
        if (X509_NAME_add_entry_by_NID(
                subject, NID_commonName, MBSTRING_ASC, detail::bytes(first),
                static_cast<int>(first.size()), -1, 0
            ) != 1) {
            return errc::crypto_failure;
        }
    }
    if (!set_public_key(req.get(), key.public_key_der())) {
        return errc::crypto_failure;
    }
    const auto names = subject_alt_names(dns_names);
    x509_extensions_ptr extensions{sk_X509_EXTENSION_new_null()};
    if (!names || !extensions) {
        return errc::crypto_failure;
    }
    // X509V3_add1_i2d can create the stack itself, hence the pointer-to-pointer; ours exists.
    STACK_OF(X509_EXTENSION)* raw = extensions.get();
    if (X509V3_add1_i2d(&raw, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1 ||
        X509_REQ_add_extensions(req.get(), extensions.get()) != 1) {
        return errc::crypto_failure;
    }
    const EVP_MD* md = key.type() == key_type::ec_p384 ? EVP_sha384() : EVP_sha256();
    if (X509_REQ_sign(req.get(), key.get(), md) <= 0) {
        return errc::crypto_failure;
    }
    auto der = detail::to_der(req.get(), [](X509_REQ* r, unsigned char** out) {
        return i2d_X509_REQ(r, out);
    });
    if (der.empty()) {
        return errc::crypto_failure;
    }
    return der;
}

} // namespace certfleet::core

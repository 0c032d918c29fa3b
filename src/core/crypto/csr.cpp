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
    if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
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

#include "core/crypto/certificate.hpp"

#include <openssl/pem.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <mutex>

#include "core/crypto/hash.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr std::size_t max_input_size = std::size_t{1024} * 1024;

x509_ptr decode(std::string_view der)
{
    if (der.empty() || der.size() > max_input_size) {
        return nullptr;
    }
    const unsigned char* p = detail::bytes(der);
    x509_ptr cert{d2i_X509(nullptr, &p, static_cast<long>(der.size()))};
    if (cert && p != detail::bytes(der) + der.size()) {
        return nullptr; // trailing bytes
    }
    return cert;
}

// The content octets of the serial's DER INTEGER. OpenSSL refuses non-minimal INTEGER encodings
// when it parses a certificate, so re-encoding gives back exactly the bytes that were received.
std::optional<std::string> serial_content(const X509* cert)
{
    const std::string tlv = detail::to_der(
        X509_get0_serialNumber(cert),
        [](const ASN1_INTEGER* i, unsigned char** out) { return i2d_ASN1_INTEGER(i, out); }
    );
    if (tlv.size() < 3 || tlv[0] != 0x02) {
        return std::nullopt;
    }
    const auto first = static_cast<unsigned char>(tlv[1]);
    std::size_t header = 2;
    std::size_t length = first;
    if (first >= 0x80) {
        const std::size_t octets = first & 0x7fU;
        if (octets == 0 || octets > 4 || tlv.size() < 2 + octets) {
            return std::nullopt;
        }
        length = 0;
        for (std::size_t i = 0; i < octets; ++i) {
            length = length << 8U | static_cast<unsigned char>(tlv[2 + i]);
        }
        header += octets;
    }
    if (tlv.size() != header + length) {
        return std::nullopt;
    }
    return tlv.substr(header);
}

std::optional<std::chrono::system_clock::time_point> to_time_point(const ASN1_TIME* time)
{
    std::tm tm{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
        return std::nullopt;
    }
    using namespace std::chrono;
    const year_month_day date{
        year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
        day{static_cast<unsigned>(tm.tm_mday)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    const std::int64_t seconds_since_epoch =
        std::int64_t{sys_days{date}.time_since_epoch().count()} * 86400 +
        std::int64_t{tm.tm_hour} * 3600 + std::int64_t{tm.tm_min} * 60 + tm.tm_sec;
    using tp = system_clock::time_point;
    if (seconds_since_epoch >= duration_cast<seconds>(tp::max().time_since_epoch()).count()) {
        return tp::max();
    }
    if (seconds_since_epoch <= duration_cast<seconds>(tp::min().time_since_epoch()).count()) {
        return tp::min();
    }
    return tp{duration_cast<system_clock::duration>(seconds{seconds_since_epoch})};
}

// The first commonName, converted to UTF-8; "" when there is none, nullopt when it cannot be
// decoded.
std::optional<std::string> common_name(const X509_NAME* name)
{
    const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (index < 0) {
        return std::string{};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    const int size = ASN1_STRING_to_UTF8(&utf8, data);
    const openssl_bytes_ptr owner{utf8};
    if (size < 0 || utf8 == nullptr) {
        return std::nullopt;
    }
    return std::string{detail::chars(utf8, static_cast<std::size_t>(size))};
}

std::optional<std::string> one_line(const X509_NAME* name)
{
    const bio_ptr bio{BIO_new(BIO_s_mem())};
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        return std::nullopt;
    }
    return detail::memory_bio_contents(bio.get());
}

// Decodes a singular extension: nullptr and true when absent, nullptr and false when it is
// present but malformed or repeated (RFC 5280 section 4.2: at most one of each).
template <typename T> std::pair<T*, bool> extension(const X509* cert, int nid)
{
    int critical = 0;
    void* value = X509_get_ext_d2i(cert, nid, &critical, nullptr);
    if (value == nullptr) {
        return {nullptr, critical == -1};
    }
    return {static_cast<T*>(value), true};
}

std::string as_string(const ASN1_STRING* s)
{
    return std::string{
        detail::chars(ASN1_STRING_get0_data(s), static_cast<std::size_t>(ASN1_STRING_length(s)))};
}

boost::system::result<certificate_info> describe(const X509* cert, std::string_view der)
{
    certificate_info info;
    info.der = std::string{der};

    auto serial = serial_content(cert);
    auto not_before = to_time_point(X509_get0_notBefore(cert));
    auto not_after = to_time_point(X509_get0_notAfter(cert));
    auto subject_cn = common_name(X509_get_subject_name(cert));
    auto issuer_cn = common_name(X509_get_issuer_name(cert));
    auto issuer_dn = one_line(X509_get_issuer_name(cert));
    if (!serial || !not_before || !not_after || !subject_cn || !issuer_cn || !issuer_dn) {
        return errc::invalid_certificate;
    }
    info.serial = std::move(*serial);
    info.not_before = *not_before;
    info.not_after = *not_after;
    info.subject_cn = std::move(*subject_cn);
    info.issuer_cn = std::move(*issuer_cn);
    info.issuer_dn = std::move(*issuer_dn);

    const auto [akid, akid_ok] = extension<AUTHORITY_KEYID>(cert, NID_authority_key_identifier);
    const authority_keyid_ptr akid_owner{akid};
    if (!akid_ok) {
        return errc::invalid_certificate;
    }
    if (akid != nullptr && akid->keyid != nullptr) {
        info.authority_key_id = as_string(akid->keyid);
    }

    const auto [san, san_ok] = extension<GENERAL_NAMES>(cert, NID_subject_alt_name);
    const general_names_ptr san_owner{san};
    if (!san_ok) {
        return errc::invalid_certificate;
    }
    const int count = san != nullptr ? sk_GENERAL_NAME_num(san) : 0;
    for (int i = 0; i < count; ++i) {
        int type = 0;
        const void* value = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(san, i), &type);
        if (type == GEN_DNS && value != nullptr) {
            info.dns_names.push_back(as_string(static_cast<const ASN1_STRING*>(value)));
        }
    }

    info.public_key_der =
        detail::to_der(X509_get_X509_PUBKEY(cert), [](const X509_PUBKEY* k, unsigned char** out) {
            return i2d_X509_PUBKEY(k, out);
        });
    if (info.public_key_der.empty()) {
        return errc::invalid_certificate;
    }
    info.sha256_fingerprint = sha256(der);
    info.sha1_fingerprint = sha1(der);
    if (info.sha256_fingerprint.empty() || info.sha1_fingerprint.empty()) {
        return errc::crypto_failure;
    }
    return info;
}

// The issuer certificates after the leaf come again in every chain a CA sends, and describing one
// decodes its public key (OpenSSL 3 looks its decoders up on every parse, ~0.1 ms): the last few
// described are kept, found by their DER. Safe to call from several threads.
class issuer_memo
{
public:
    std::optional<certificate_info> find(std::string_view der)
    {
        const std::scoped_lock lock(mutex_);
        for (const auto& entry : entries_) {
            if (entry.der == der) {
                return entry;
            }
        }
        return std::nullopt;
    }

    void remember(const certificate_info& info)
    {
        const std::scoped_lock lock(mutex_);
        entries_[next_] = info;
        next_ = (next_ + 1) % entries_.size();
    }

private:
    std::mutex mutex_;
    std::array<certificate_info, 4> entries_;
    std::size_t next_ = 0;
};

issuer_memo& issuers()
{
    static issuer_memo memo;
    return memo;
}

boost::system::result<certificate_info> parse_block(std::string_view der, bool is_issuer)
{
    if (is_issuer) {
        if (auto known = issuers().find(der)) {
            return std::move(*known);
        }
    }
    const auto cert = decode(der);
    if (!cert) {
        return errc::invalid_certificate;
    }
    auto info = describe(cert.get(), der);
    if (info && is_issuer) {
        issuers().remember(*info);
    }
    return info;
}

} // namespace

boost::system::result<certificate_info> parse_der_certificate(std::string_view der)
{
    const detail::error_queue_guard guard;
    const auto cert = decode(der);
    if (!cert) {
        return errc::invalid_certificate;
    }
    return describe(cert.get(), der);
}

boost::system::result<std::vector<certificate_info>> parse_pem_chain(std::string_view pem)
{
    const detail::error_queue_guard guard;
    if (pem.empty() || pem.size() > max_input_size) {
        return errc::invalid_certificate;
    }
    const auto bio = detail::memory_bio(pem);
    if (!bio) {
        return errc::crypto_failure;
    }
    std::vector<certificate_info> chain;
    for (;;) {
        char* name = nullptr;
        char* header = nullptr;
        unsigned char* data = nullptr;
        long length = 0;
        ERR_clear_error();
        const int read = PEM_read_bio(bio.get(), &name, &header, &data, &length);
        const openssl_chars_ptr name_owner{name};
        const openssl_chars_ptr header_owner{header};
        const openssl_bytes_ptr data_owner{data};
        if (read != 1) {
            // PEM_R_NO_START_LINE is how PEM_read_bio says "no further block".
            const unsigned long error = ERR_peek_last_error();
            if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE) {
                break;
            }
            return errc::invalid_certificate;
        }
        if (name == nullptr || std::string_view{name} != PEM_STRING_X509 ||
            (header != nullptr && *header != '\0') || data == nullptr || length <= 0) {
            return errc::invalid_certificate;
        }
        if (chain.size() == max_chain_length) {
            return errc::too_many_certificates;
        }
        const auto der = detail::chars(data, static_cast<std::size_t>(length));
        auto info = parse_block(der, !chain.empty());
        if (!info) {
            return info.error();
        }
        chain.push_back(std::move(*info));
    }
    if (chain.empty()) {
        return errc::invalid_certificate;
    }
    return chain;
}

bool certificate_matches_key(const certificate_info& cert, const private_key& key)
{
    // The CA copies the CSR's key as it was sent: equal bytes settle it without decoding the
    // certificate again (OpenSSL 3 decodes its key on every parse, the costly part).
    if (cert.public_key_der == key.public_key_der()) {
        return true;
    }
    // The same key encoded another way (an EC point sent compressed) is still ours.
    const detail::error_queue_guard guard;
    const auto x509 = decode(cert.der);
    if (!x509) {
        return false;
    }
    const EVP_PKEY* public_key = X509_get0_pubkey(x509.get());
    return public_key != nullptr && EVP_PKEY_eq(public_key, key.get()) == 1;
}

} // namespace certfleet::core

#include "core/crypto/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

#include "core/crypto/openssl_support.hpp"

namespace certfleet::core {
namespace {

std::string digest(std::string_view data, const EVP_MD* md)
{
    const detail::error_queue_guard guard;
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &size, md, nullptr) != 1) {
        return {};
    }
    return std::string{detail::chars(out.data(), size)};
}

} // namespace

std::string sha256(std::string_view data)
{
    return digest(data, EVP_sha256());
}

std::string sha384(std::string_view data)
{
    return digest(data, EVP_sha384());
}

std::string sha1(std::string_view data)
{
    return digest(data, EVP_sha1());
}

std::string hmac_sha256(std::string_view key, std::string_view data)
{
    const detail::error_queue_guard guard;
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    std::size_t size = 0;
    // A zero-length key is legal for HMAC (RFC 2104); OpenSSL wants a non-null pointer for it.
    static const unsigned char empty_key = 0;
    const unsigned char* key_bytes = key.empty() ? &empty_key : detail::bytes(key);
    if (EVP_Q_mac(
            nullptr, "HMAC", nullptr, "SHA256", nullptr, key_bytes, key.size(), detail::bytes(data),
            data.size(), out.data(), out.size(), &size
        ) == nullptr) {
        return {};
    }
    return std::string{detail::chars(out.data(), size)};
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size()) {
        return false;
    }
    return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace certfleet::core

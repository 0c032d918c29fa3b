#include "core/crypto/random.hpp"

#include <openssl/rand.h>

#include <array>
#include <string_view>

#include "core/crypto/encoding.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

// Uniform over `alphabet` by rejection: bytes past the largest multiple are drawn again.
boost::system::error_code
fill(char* out, std::size_t length, std::string_view alphabet, bool letter_first)
{
    const auto n = alphabet.size();
    const unsigned limit = 256 - (256 % static_cast<unsigned>(n));
    for (std::size_t i = 0; i < length;) {
        unsigned char byte = 0;
        if (RAND_bytes(&byte, 1) != 1) {
            return make_error_code(errc::crypto_failure);
        }
        if (byte >= limit) {
            continue;
        }
        const char c = alphabet[byte % n];
        if (i == 0 && letter_first && (c >= '0' && c <= '9')) {
            continue;
        }
        out[i++] = c;
    }
    return {};
}

} // namespace

boost::system::result<std::string> random_bytes(std::size_t count)
{
    if (count > std::size_t{1024} * 1024) {
        return errc::invalid_argument;
    }
    const detail::error_queue_guard guard;
    std::string out(count, '\0');
    if (count > 0 &&
        RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<std::string> random_label(std::size_t length)
{
    std::string label(length, '\0');
    if (auto ec = fill(label.data(), length, "abcdefghijklmnopqrstuvwxyz0123456789", true)) {
        return ec;
    }
    return label;
}

boost::system::result<secret> random_password(std::size_t length)
{
    auto password = secret::with_size(length);
    if (auto ec = fill(
            password.data(), length,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", false
        )) {
        return ec;
    }
    return password;
}

boost::system::result<std::string> random_uuid()
{
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        return make_error_code(errc::crypto_failure);
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0FU) | 0x40U); // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3FU) | 0x80U); // variant 10
    const auto hex = to_hex(detail::chars(bytes.data(), bytes.size()));
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
}

} // namespace certfleet::core

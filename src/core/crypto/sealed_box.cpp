#include "core/crypto/sealed_box.hpp"

#include <openssl/rand.h>

#include <array>

#include "core/crypto/aes_gcm.hpp"
#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr unsigned char version_1 = 0x01;
constexpr std::size_t max_message = std::size_t{1} << 30U;

} // namespace

boost::system::result<std::string>
seal_aes256gcm(std::string_view key32, std::string_view plaintext, std::string_view associated_data)
{
    if (key32.size() != sealed_box_key_size || plaintext.size() > max_message ||
        associated_data.size() > max_message) {
        return errc::invalid_argument;
    }
    std::array<unsigned char, aes_gcm_nonce_size> nonce{};
    {
        const detail::error_queue_guard guard;
        if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
            return errc::crypto_failure;
        }
    }
    const auto nonce_text = detail::chars(nonce.data(), nonce.size());
    auto body = aes_gcm_seal(key32, nonce_text, associated_data, plaintext);
    if (!body) {
        return body.error();
    }
    std::string out;
    out.reserve(1 + nonce.size() + body->size());
    out.push_back(static_cast<char>(version_1));
    out.append(nonce_text).append(*body);
    return out;
}

boost::system::result<secret>
open_aes256gcm(std::string_view key32, std::string_view sealed, std::string_view associated_data)
{
    if (key32.size() != sealed_box_key_size || associated_data.size() > max_message) {
        return errc::invalid_argument;
    }
    if (sealed.size() < sealed_box_overhead || static_cast<unsigned char>(sealed[0]) != version_1) {
        return errc::corrupt_data;
    }
    return aes_gcm_open(
        key32, sealed.substr(1, aes_gcm_nonce_size), associated_data,
        sealed.substr(1 + aes_gcm_nonce_size)
    );
}

} // namespace certfleet::core

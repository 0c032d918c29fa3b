#include "core/crypto/aes_gcm.hpp"

#include <algorithm>
#include <array>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr std::size_t max_message = std::size_t{1} << 30U;

// EVP update calls take int lengths; feed larger inputs in pieces.
constexpr std::size_t chunk = std::size_t{1} << 24U;

template <typename Update>
bool update_all(EVP_CIPHER_CTX* ctx, Update update, std::string_view in, unsigned char* out)
{
    for (std::size_t done = 0; done < in.size();) {
        const std::size_t n = std::min(chunk, in.size() - done);
        int written = 0;
        if (update(
                ctx, out == nullptr ? nullptr : out + done, &written, detail::bytes(in) + done,
                static_cast<int>(n)
            ) != 1 ||
            (out != nullptr && static_cast<std::size_t>(written) != n)) {
            return false;
        }
        done += n;
    }
    return true;
}

const EVP_CIPHER* cipher_for(std::string_view key) noexcept
{
    switch (key.size()) {
    case 16:
        return EVP_aes_128_gcm();
    case 32:
        return EVP_aes_256_gcm();
    default:
        return nullptr;
    }
}

bool valid_sizes(std::string_view key, std::string_view nonce, std::string_view ad, std::size_t n)
{
    return cipher_for(key) != nullptr && nonce.size() == aes_gcm_nonce_size &&
           ad.size() <= max_message && n <= max_message + aes_gcm_tag_size;
}

} // namespace

boost::system::result<std::string> aes_gcm_seal(
    std::string_view key,
    std::string_view nonce,
    std::string_view associated_data,
    std::string_view plaintext
)
{
    if (!valid_sizes(key, nonce, associated_data, plaintext.size()) ||
        plaintext.size() > max_message) {
        return errc::invalid_argument;
    }
    const detail::error_queue_guard guard;
    std::string out(plaintext.size() + aes_gcm_tag_size, '\0');
    auto* const ciphertext = reinterpret_cast<unsigned char*>(out.data());
    unsigned char* const tag = ciphertext + plaintext.size();
    const cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
    std::array<unsigned char, 16> final_block{}; // GCM writes nothing at the end
    int final_size = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(
            ctx.get(), cipher_for(key), nullptr, detail::bytes(key), detail::bytes(nonce)
        ) != 1 ||
        !update_all(ctx.get(), EVP_EncryptUpdate, associated_data, nullptr) ||
        !update_all(ctx.get(), EVP_EncryptUpdate, plaintext, ciphertext) ||
        EVP_EncryptFinal_ex(ctx.get(), final_block.data(), &final_size) != 1 || final_size != 0 ||
        EVP_CIPHER_CTX_ctrl(
            ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(aes_gcm_tag_size), tag
        ) != 1) {
        return errc::crypto_failure;
    }
    return out;
}

boost::system::result<secret> aes_gcm_open(
    std::string_view key,
    std::string_view nonce,
    std::string_view associated_data,
    std::string_view sealed
)
{
    if (!valid_sizes(key, nonce, associated_data, sealed.size())) {
        return errc::invalid_argument;
    }
    if (sealed.size() < aes_gcm_tag_size) {
        return errc::authentication_failed;
    }
    const detail::error_queue_guard guard;
    const auto ciphertext = sealed.substr(0, sealed.size() - aes_gcm_tag_size);
    std::array<unsigned char, aes_gcm_tag_size> tag{};
    std::copy_n(detail::bytes(sealed.substr(ciphertext.size())), tag.size(), tag.begin());

    auto plaintext = secret::with_size(ciphertext.size());
    const cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
    std::array<unsigned char, 16> final_block{}; // GCM writes nothing at the end
    int final_size = 0;
    if (!ctx ||
        EVP_DecryptInit_ex(
            ctx.get(), cipher_for(key), nullptr, detail::bytes(key), detail::bytes(nonce)
        ) != 1 ||
        !update_all(ctx.get(), EVP_DecryptUpdate, associated_data, nullptr) ||
        !update_all(
            ctx.get(), EVP_DecryptUpdate, ciphertext,
            reinterpret_cast<unsigned char*>(plaintext.data())
        ) ||
        EVP_CIPHER_CTX_ctrl(
            ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()), tag.data()
        ) != 1) {
        return errc::crypto_failure;
    }
    // The tag is checked here, after decryption into our buffer; on failure the buffer is wiped
    // by secret's destructor and nothing of it is returned.
    if (EVP_DecryptFinal_ex(ctx.get(), final_block.data(), &final_size) != 1) {
        return errc::authentication_failed;
    }
    return plaintext;
}

} // namespace certfleet::core

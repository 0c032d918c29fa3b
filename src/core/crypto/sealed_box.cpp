#include "core/crypto/sealed_box.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>

#include "core/crypto/openssl_support.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr unsigned char version_1 = 0x01;
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
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

} // namespace

boost::system::result<std::string>
seal_aes256gcm(std::string_view key32, std::string_view plaintext, std::string_view associated_data)
{
    if (key32.size() != sealed_box_key_size || plaintext.size() > max_message ||
        associated_data.size() > max_message) {
        return errc::invalid_argument;
    }
    const detail::error_queue_guard guard;
    std::string out(sealed_box_overhead + plaintext.size(), '\0');
    auto* const base = reinterpret_cast<unsigned char*>(out.data());
    unsigned char* const nonce = base + 1;
    unsigned char* const ciphertext = nonce + nonce_size;
    unsigned char* const tag = ciphertext + plaintext.size();
    base[0] = version_1;
    if (RAND_bytes(nonce, static_cast<int>(nonce_size)) != 1) {
        return errc::crypto_failure;
    }
    const cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
    std::array<unsigned char, 16> final_block{}; // GCM writes nothing at the end
    int final_size = 0;
    if (!ctx ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, detail::bytes(key32), nonce) !=
            1 ||
        !update_all(ctx.get(), EVP_EncryptUpdate, associated_data, nullptr) ||
        !update_all(ctx.get(), EVP_EncryptUpdate, plaintext, ciphertext) ||
        EVP_EncryptFinal_ex(ctx.get(), final_block.data(), &final_size) != 1 || final_size != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_size), tag) !=
            1) {
        return errc::crypto_failure;
    }
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
    const detail::error_queue_guard guard;
    const auto nonce = sealed.substr(1, nonce_size);
    const auto ciphertext = sealed.substr(1 + nonce_size, sealed.size() - sealed_box_overhead);
    std::array<unsigned char, tag_size> tag{};
    std::copy_n(detail::bytes(sealed.substr(sealed.size() - tag_size)), tag_size, tag.begin());

    auto plaintext = secret::with_size(ciphertext.size());
    const cipher_ctx_ptr ctx{EVP_CIPHER_CTX_new()};
    std::array<unsigned char, 16> final_block{}; // GCM writes nothing at the end
    int final_size = 0;
    if (!ctx ||
        EVP_DecryptInit_ex(
            ctx.get(), EVP_aes_256_gcm(), nullptr, detail::bytes(key32), detail::bytes(nonce)
        ) != 1 ||
        !update_all(ctx.get(), EVP_DecryptUpdate, associated_data, nullptr) ||
        !update_all(
            ctx.get(), EVP_DecryptUpdate, ciphertext,
            reinterpret_cast<unsigned char*>(plaintext.data())
        ) ||
        EVP_CIPHER_CTX_ctrl(
            ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_size), tag.data()
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

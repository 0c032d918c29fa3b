#include "core/key_vault.hpp"

#include <openssl/rand.h>

#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/sealed_box.hpp"
#include "core/errc.hpp"

namespace certfleet::core {
namespace {

constexpr std::string_view check_plaintext = "certfleet master key check v1";
constexpr std::string_view check_context = "master-key-check";

std::string associated_data(std::string_view context)
{
    return "certfleet/" + std::string(context);
}

std::string_view trim(std::string_view text)
{
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

boost::system::result<key_vault> key_vault::from_text(std::string_view base64)
{
    auto bytes = base64_decode(trim(base64));
    if (!bytes) {
        return bytes.error();
    }
    auto key = secret::adopt(std::move(*bytes));
    if (key.size() != sealed_box_key_size) {
        return make_error_code(errc::invalid_key);
    }
    return key_vault(std::move(key));
}

boost::system::result<key_vault> key_vault::load(
    const std::filesystem::path& file, std::optional<std::string_view> environment_value
)
{
    if (environment_value) {
        return from_text(*environment_value);
    }
    std::ifstream in(file);
    if (!in) {
        return boost::system::error_code(errno, boost::system::generic_category());
    }
    std::stringstream text;
    text << in.rdbuf();
    auto content = text.str();
    auto vault = from_text(content);
    auto wiped = secret::adopt(std::move(content));
    return vault;
}

boost::system::error_code key_vault::create_file(const std::filesystem::path& file)
{
    auto key = secret::with_size(sealed_box_key_size);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) !=
        1) {
        return make_error_code(errc::crypto_failure);
    }
    auto text = secret::adopt(base64_encode(key.view()) + "\n");
    return create_file_exclusively(file, text.view(), 0600);
}

boost::system::result<std::string>
key_vault::seal(std::string_view plaintext, std::string_view context) const
{
    return seal_aes256gcm(key_.view(), plaintext, associated_data(context));
}

boost::system::result<secret>
key_vault::open(std::string_view sealed, std::string_view context) const
{
    return open_aes256gcm(key_.view(), sealed, associated_data(context));
}

boost::system::result<std::string> key_vault::make_check_value() const
{
    return seal(check_plaintext, check_context);
}

bool key_vault::verifies(std::string_view check_value) const
{
    auto opened = open(check_value, check_context);
    return opened && opened->view() == check_plaintext;
}

} // namespace certfleet::core

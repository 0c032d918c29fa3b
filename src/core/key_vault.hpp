#pragma once
// The master key that seals every private key at rest (DESIGN section 7): AES-256-GCM
// (sealed_box.hpp) with the row a key belongs to as associated data, so a sealed key cannot be
// moved to another row. The master key is 32 random bytes, base64 in a file created 0600 by
// `certfleet init`, or in the environment (CERTFLEET_MASTER_KEY), which wins over the file.

#include <boost/system/result.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"

namespace certfleet::core {

inline constexpr std::string_view master_key_environment = "CERTFLEET_MASTER_KEY";

class key_vault
{
public:
    // From the base64 text of a master key (surrounding white space ignored).
    // Errors: invalid_encoding (not base64), invalid_key (not 32 bytes).
    [[nodiscard]] static boost::system::result<key_vault> from_text(std::string_view base64);
    // From `environment_value` when given, else from the file. Errors: those of from_text, and
    // the file's own (no such file, permission denied).
    [[nodiscard]] static boost::system::result<key_vault>
    load(const std::filesystem::path& file, std::optional<std::string_view> environment_value);
    // A new master key file (0600), created exclusively: file_exists when anything is there.
    [[nodiscard]] static boost::system::error_code create_file(const std::filesystem::path& file);

    // `context` names the row the secret belongs to, e.g. "certificate-key/12".
    [[nodiscard]] boost::system::result<std::string>
    seal(std::string_view plaintext, std::string_view context) const;
    // Errors: authentication_failed (wrong master key, tampered, moved to another row).
    [[nodiscard]] boost::system::result<secret>
    open(std::string_view sealed, std::string_view context) const;

    // A value sealed under this key that proves, when it opens, that a later start uses the
    // same master key as the one the store was created with.
    [[nodiscard]] boost::system::result<std::string> make_check_value() const;
    [[nodiscard]] bool verifies(std::string_view check_value) const;

private:
    explicit key_vault(secret key) : key_(std::move(key)) {}
    secret key_;
};

} // namespace certfleet::core

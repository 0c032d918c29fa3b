#pragma once
// The key types certfleet generates and accepts (EC P-256/P-384, RSA 2048/3072/4096), as plain
// data: headers that only name a type (the order machine's request, configuration) need no
// OpenSSL. Defined in private_key.cpp, beside each type's parameters.

#include <optional>
#include <string_view>

namespace certfleet::core {

enum class key_type
{
    ec_p256,
    ec_p384,
    rsa_2048,
    rsa_3072,
    rsa_4096,
};

// "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096" (configuration and storage spelling).
[[nodiscard]] std::string_view to_string(key_type type) noexcept;
[[nodiscard]] std::optional<key_type> key_type_from_string(std::string_view text) noexcept;

} // namespace certfleet::core

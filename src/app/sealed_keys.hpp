#pragma once
// Where each sealed private key belongs: the associated data that binds its ciphertext to its
// row (core::key_vault), so a sealed key moved to another row does not open.

#include <string>
#include <string_view>

#include "core/store.hpp"

namespace certfleet::app {

[[nodiscard]] inline std::string certificate_key_context(core::row_id certificate_id)
{
    return "certificate-key/" + std::to_string(certificate_id);
}

[[nodiscard]] inline std::string account_key_context(std::string_view ca)
{
    return "account-key/" + std::string(ca);
}

} // namespace certfleet::app

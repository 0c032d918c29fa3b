#pragma once
// How identity.json is kept at rest (agent_state.cpp writes and reads it through these two): on
// Linux as it is, in a 0600 file of a 0700 directory (identity_seal_posix.cpp); on Windows
// encrypted with DPAPI for the machine (CryptProtectData with CRYPTPROTECT_LOCAL_MACHINE), in a
// directory only SYSTEM and Administrators may open (src/windows/identity_dpapi.cpp).

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"

namespace certfleet::deploy {

// The bytes to store for `plain`. Errors: crypto_failure.
[[nodiscard]] boost::system::result<core::secret> seal_identity(std::string_view plain);
// The plain text of stored bytes. Errors: state_corrupt (not sealed here, damaged, or sealed on
// another machine).
[[nodiscard]] boost::system::result<core::secret> open_identity(std::string_view stored);

} // namespace certfleet::deploy

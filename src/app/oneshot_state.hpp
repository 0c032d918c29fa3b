#pragma once
// The state `certfleet issue` runs on: the configured store when the configuration has a
// [store] section, otherwise a private temporary one (a directory created 0700 under $TMPDIR,
// sealed under a master key that lives in memory only), removed with everything in it when
// this object goes. Either way the issuer, the preflight and the scheduler's sweep run on it
// exactly as for `certfleet serve` and `certfleet renew`.

#include <filesystem>
#include <optional>

#include "app/settings.hpp"
#include "app/state.hpp"
#include "core/crypto/private_key.hpp"

namespace certfleet::app {

class oneshot_state
{
public:
    // Points `settings` at the temporary store when it names none. Throws startup_error.
    explicit oneshot_state(server_settings& settings);
    ~oneshot_state();
    oneshot_state(const oneshot_state&) = delete;
    oneshot_state& operator=(const oneshot_state&) = delete;

    [[nodiscard]] state& opened() noexcept { return *state_; }
    // True when the store is the temporary one.
    [[nodiscard]] bool temporary() const noexcept { return !temporary_dir_.empty(); }

private:
    std::filesystem::path temporary_dir_;
    std::optional<state> state_;
};

// The account key file of the legacy configuration (acme.account_key): read when anything is
// at the path (an unreadable file or a dangling symlink is an error, never a reason to make
// another account), created exclusively (EC P-256, 0600) only when nothing is there.
[[nodiscard]] boost::system::result<core::private_key>
load_or_create_account_key(const std::filesystem::path& file);

// Gives CA `ca` this account key in the store, unless the store holds one already: the same
// key is fine; another is refused (startup_error), for a key that exists is never replaced.
void import_account_key(state& opened, const ca_settings& ca, const core::private_key& key);

} // namespace certfleet::app

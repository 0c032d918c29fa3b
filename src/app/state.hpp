#pragma once
// Opening certfleet's state for a command: the store (migrated) and the master key that seals
// its private keys, checked against the store so that a wrong key is a start-up error rather
// than garbage later. Domains listed in the configuration ([[domain]]) are seeded into the store.

#include <memory>
#include <stdexcept>

#include "app/settings.hpp"
#include "core/key_vault.hpp"
#include "core/store.hpp"

namespace certfleet::app {

// A start-up failure: what is wrong and what to do, for humans.
class startup_error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct state
{
    std::unique_ptr<core::store> store;
    core::key_vault vault;
};

// Throws startup_error. `create`: a new database (certfleet init); otherwise it must exist.
[[nodiscard]] state open_state(const server_settings& settings, bool create = false);
// The same with a master key the caller holds (the one-shot `issue`'s key, in memory only).
[[nodiscard]] state open_state(const server_settings& settings, core::key_vault vault, bool create);

// The lock owner this process writes into the store.
[[nodiscard]] core::lock_owner this_process();

} // namespace certfleet::app

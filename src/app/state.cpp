#include "app/state.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>

#include "app/log.hpp"
#include "core/errc.hpp"
#include "core/sqlite_store.hpp"

namespace certfleet::app {
namespace {

constexpr std::string_view master_key_check = "master_key_check";

core::key_vault load_vault(const server_settings& settings)
{
    const char* env = std::getenv(std::string(core::master_key_environment).c_str());
    std::optional<std::string_view> from_env;
    if (env != nullptr && *env != '\0') {
        from_env = env;
    }
    auto vault = core::key_vault::load(settings.master_key_file, from_env);
    if (!vault) {
        const std::string source = from_env ? std::string(core::master_key_environment)
                                            : settings.master_key_file.string();
        throw startup_error(
            "cannot read the master key from " + source + ": " + vault.error().message() +
            ". It is created by `certfleet init`; restore it from your backup (without it the "
            "stored private keys cannot be opened), or set " +
            std::string(core::master_key_environment) + " to its base64 text."
        );
    }
    return std::move(*vault);
}

void check_vault(core::store& store, const core::key_vault& vault, const server_settings& settings)
{
    auto check = store.setting(master_key_check);
    if (!check) {
        throw startup_error("cannot read the database: " + check.error().message());
    }
    if (*check) {
        if (!vault.verifies(**check)) {
            throw startup_error(
                "the master key does not open this database (" + settings.database.string() +
                "): it was created with another key. Use the master key file that `certfleet "
                "init` made for this database, or unset " +
                std::string(core::master_key_environment) + " if it points elsewhere."
            );
        }
        return;
    }
    auto value = vault.make_check_value();
    if (!value || !store.put_setting(master_key_check, *value)) {
        throw startup_error("cannot write to the database " + settings.database.string());
    }
}

void seed_domains(core::store& store, const server_settings& settings)
{
    for (const auto& d : settings.domains) {
        auto existing = store.find_domain(d.name);
        if (existing) {
            if (existing->label != d.label) {
                log(level::warn, "domain " + d.name + ": the store delegates it to label " +
                                     existing->label + ", " + d.where + " says " + d.label +
                                     "; keeping the stored label");
            }
            continue;
        }
        core::domain_record record;
        record.name = d.name;
        record.label = d.label;
        if (auto added = store.add_domain(record); !added) {
            throw startup_error(
                d.where + ": cannot add the domain " + d.name + " to the store: " +
                added.error().message() + " (is its label already used by another domain?)"
            );
        }
    }
}

} // namespace

state open_state(const server_settings& settings, bool create)
{
    return open_state(settings, load_vault(settings), create);
}

state open_state(const server_settings& settings, core::key_vault vault, bool create)
{
    std::unique_ptr<core::store> store;
    try {
        store = core::open_sqlite_store(settings.database, {.create = create});
    } catch (const core::store_open_error& e) {
        std::error_code ec;
        if (!std::filesystem::exists(settings.database, ec)) {
            throw startup_error(
                "no database at " + settings.database.string() +
                ": run `certfleet init` first (or point [store] database at it)"
            );
        }
        throw startup_error(e.what());
    }
    check_vault(*store, vault, settings);
    seed_domains(*store, settings);
    return state{std::move(store), std::move(vault)};
}

core::lock_owner this_process()
{
    std::array<char, 256> host{};
    ::gethostname(host.data(), host.size() - 1);
    return core::lock_owner{host.data(), static_cast<std::int64_t>(::getpid())};
}

} // namespace certfleet::app

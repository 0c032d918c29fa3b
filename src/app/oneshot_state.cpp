#include "app/oneshot_state.hpp"

#include <stdlib.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "app/sealed_keys.hpp"
#include "core/atomic_file.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace {

// A fresh directory only this user can enter, under $TMPDIR (or /tmp).
std::filesystem::path make_private_directory()
{
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (base != nullptr && *base != '\0') ? base : "/tmp";
    pattern += "/certfleet-issue-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        const std::error_code ec(errno, std::generic_category());
        throw startup_error(
            "cannot create a temporary directory for the issuance state in " +
            pattern.substr(0, pattern.rfind('/')) + ": " + ec.message() +
            ". Free some space there, or point TMPDIR at a writable directory."
        );
    }
    return pattern; // mkdtemp makes it 0700
}

// A master key that lives in memory only: the temporary store's keys are sealed under it and
// die with the process.
core::key_vault ephemeral_vault()
{
    auto bytes = core::random_bytes(32);
    if (!bytes) {
        throw startup_error("cannot make a master key: " + bytes.error().message());
    }
    const auto raw = core::secret::adopt(std::move(*bytes));
    const auto text = core::secret::adopt(core::base64_encode(raw.view()));
    auto vault = core::key_vault::from_text(text.view());
    if (!vault) {
        throw startup_error("cannot make a master key: " + vault.error().message());
    }
    return std::move(*vault);
}

} // namespace

oneshot_state::oneshot_state(server_settings& settings)
{
    if (settings.backend) {
        state_.emplace(open_state(settings));
        return;
    }
    temporary_dir_ = make_private_directory();
    settings.database = temporary_dir_ / "certfleet.db";
    settings.master_key_file.clear();
    settings.control_socket = temporary_dir_ / "certfleet.db.sock";
    try {
        state_.emplace(open_state(settings, ephemeral_vault(), true));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(temporary_dir_, ignored);
        throw;
    }
}

oneshot_state::~oneshot_state()
{
    state_.reset(); // the store closes before its files go
    if (!temporary_dir_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(temporary_dir_, ignored);
    }
}

boost::system::result<core::private_key>
load_or_create_account_key(const std::filesystem::path& file)
{
    std::error_code status_error;
    const auto status = std::filesystem::symlink_status(file, status_error);
    if (status.type() != std::filesystem::file_type::not_found) {
        std::ifstream in(file);
        if (!in) {
            return boost::system::error_code(
                errno != 0 ? errno : EACCES, boost::system::generic_category()
            );
        }
        std::stringstream pem;
        pem << in.rdbuf();
        return core::private_key::from_pem(pem.str());
    }
    auto key = core::private_key::generate(core::key_type::ec_p256);
    if (!key) {
        return key.error();
    }
    if (auto ec = core::create_file_exclusively(file, key->to_pem(), 0600)) {
        return ec;
    }
    return key;
}

void import_account_key(state& opened, const ca_settings& ca, const core::private_key& key)
{
    auto stored = opened.store->find_ca(ca.name);
    if (!stored && stored.error() != core::errc::not_found) {
        throw startup_error("cannot read CA '" + ca.name + "': " + stored.error().message());
    }
    core::ca_account account = stored ? std::move(*stored) : core::ca_account{};
    if (!account.account_key_sealed.empty()) {
        auto pem = opened.vault.open(account.account_key_sealed, account_key_context(ca.name));
        auto held = pem ? core::private_key::from_pem(pem->view())
                        : boost::system::result<core::private_key>(pem.error());
        if (held && held->public_key_der() == key.public_key_der()) {
            return;
        }
        throw startup_error(
            "the store already holds another account key for CA '" + ca.name +
            "', and a key that exists is never replaced: remove acme.account_key from the "
            "configuration to use the store's account"
        );
    }
    account.name = ca.name;
    account.directory_url = ca.directory;
    account.contact = ca.contact;
    const auto pem = core::secret::adopt(key.to_pem());
    auto sealed = opened.vault.seal(pem.view(), account_key_context(ca.name));
    if (!sealed) {
        throw startup_error("cannot seal the account key: " + sealed.error().message());
    }
    account.account_key_sealed = std::move(*sealed);
    if (auto saved = opened.store->save_ca(account); !saved) {
        throw startup_error("cannot store the account key: " + saved.error().message());
    }
}

} // namespace certfleet::app

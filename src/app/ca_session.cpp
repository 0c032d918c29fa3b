#include "app/ca_session.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/log.hpp"
#include "app/sealed_keys.hpp"
#include "app/state.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace {

// The stored account key, or a new one stored (sealed) before anything uses it.
core::private_key
account_key(core::store& store, const core::key_vault& vault, core::ca_account& account)
{
    if (!account.account_key_sealed.empty()) {
        auto pem = vault.open(account.account_key_sealed, account_key_context(account.name));
        auto key = pem ? core::private_key::from_pem(pem->view())
                       : boost::system::result<core::private_key>(pem.error());
        if (!key) {
            throw startup_error(
                "the account key of CA '" + account.name + "' in the store cannot be opened (" +
                key.error().message() +
                "): restore the database and master key from the same backup"
            );
        }
        return std::move(*key);
    }
    auto key = core::private_key::generate(core::key_type::ec_p256);
    if (!key) {
        throw startup_error("cannot generate an account key: " + key.error().message());
    }
    const auto pem = core::secret::adopt(key->to_pem());
    auto sealed = vault.seal(pem.view(), account_key_context(account.name));
    if (!sealed) {
        throw startup_error("cannot seal the new account key: " + sealed.error().message());
    }
    account.account_key_sealed = std::move(*sealed);
    account.account_url.clear();
    if (auto saved = store.save_ca(account); !saved) {
        throw startup_error("cannot store the new account key: " + saved.error().message());
    }
    return std::move(*key);
}

} // namespace

ca_session::ca_session(
    boost::asio::any_io_executor executor,
    const ca_settings& settings,
    core::store& store,
    const core::key_vault& vault,
    issuance_counters* counters
)
    : settings_(settings), store_(store),
      registration_done_(executor, boost::asio::steady_timer::time_point::max())
{
    auto stored = store.find_ca(settings.name);
    if (stored) {
        account_ = std::move(*stored);
    } else if (stored.error() != core::errc::not_found) {
        throw startup_error("cannot read CA '" + settings.name + "': " + stored.error().message());
    }
    account_.name = settings.name;
    if (account_.directory_url != settings.directory) {
        // Another directory is another CA: its account must be registered there.
        account_.account_url.clear();
    }
    account_.directory_url = settings.directory;
    account_.contact = settings.contact;
    if (settings.eab) {
        account_.eab_key_id = settings.eab->key_id;
    }
    auto key = account_key(store, vault, account_);
    net::http_client_options http_options;
    http_options.ca_file = settings.ca_bundle;
    try {
        http_ = std::make_unique<net::http_client>(executor, http_options);
    } catch (const std::exception& e) {
        throw startup_error(
            "CA '" + settings.name + "': " + e.what() + ". Check its ca_bundle setting."
        );
    }
    acme::client_options options;
    options.directory_url = settings.directory;
    if (counters != nullptr) {
        options.on_request = [counters, ca = settings.name](const acme::request_report& r) {
            counters->acme_requests.add({ca, acme::to_string(r.where), r.outcome});
        };
    }
    client_ = std::make_unique<acme::client>(*http_, std::move(key), options);
}

boost::asio::awaitable<acme::outcome<void>> ca_session::ensure_account()
{
    while (registering_ && !registered_) {
        boost::system::error_code woken;
        co_await registration_done_.async_wait(
            boost::asio::redirect_error(boost::asio::use_awaitable, woken)
        );
    }
    if (registered_) {
        co_return acme::outcome<void>{};
    }
    if (!account_.account_url.empty()) {
        client_->use_account(account_.account_url);
        registered_ = true;
        co_return acme::outcome<void>{};
    }
    // A failed registration lets the next caller try again; waiters wake either way.
    registering_ = true;
    struct wake_waiters
    {
        ca_session& session;
        ~wake_waiters()
        {
            session.registering_ = false;
            session.registration_done_.cancel();
        }
    } wake{*this};
    acme::account_options options;
    options.contact = settings_.contact;
    options.agree_to_terms = true;
    options.eab = settings_.eab;
    auto account = co_await client_->register_account(std::move(options));
    if (!account) {
        co_return account.error();
    }
    registered_ = true;
    if (account_.account_url != account->url) {
        account_.account_url = account->url;
        if (auto saved = store_.save_ca(account_); !saved) {
            log(level::warn, "cannot record the account URL of CA '" + settings_.name +
                                 "': " + saved.error().message());
        }
        log(level::info, "CA " + settings_.name + ": account " + escape(account->url));
    }
    co_return acme::outcome<void>{};
}

void ca_session::forget_account() noexcept
{
    registered_ = false;
    account_.account_url.clear(); // the registration's answer is stored again, and logged
}

} // namespace certfleet::app

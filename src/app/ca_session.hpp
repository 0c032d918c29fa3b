#pragma once
// One CA as the issuer uses it: an HTTPS client, the ACME client and its account. The account
// key lives sealed in the store: created (and stored) before the first registration, never
// replaced; a stored key that cannot be opened stops the CA's work with the reason.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>

#include "acme/client.hpp"
#include "app/issuance_counters.hpp"
#include "app/settings.hpp"
#include "core/key_vault.hpp"
#include "core/store.hpp"
#include "net/http_client.hpp"

namespace certfleet::app {

class ca_session
{
public:
    // Throws startup_error when the CA's ca_bundle cannot be loaded or its account key is
    // unreadable. Every ACME request is counted in `counters` (by this CA's name) when given.
    ca_session(
        boost::asio::any_io_executor executor,
        const ca_settings& settings,
        core::store& store,
        const core::key_vault& vault,
        issuance_counters* counters = nullptr
    );

    // Registers the account (or finds the one its key already has) once; later calls return
    // at once, and calls made while a registration is under way wait for it (many orders
    // starting together send one newAccount, not one each). An account URL stored by an
    // earlier registration at this CA is used as it is, without a request.
    boost::asio::awaitable<acme::outcome<void>> ensure_account();
    // The CA answered accountDoesNotExist for the stored account (a CA reset, a purge): the
    // next ensure_account registers again.
    void forget_account() noexcept;

    [[nodiscard]] acme::client& client() noexcept { return *client_; }
    [[nodiscard]] const ca_settings& settings() const noexcept { return settings_; }

private:
    ca_settings settings_;
    core::store& store_;
    core::ca_account account_;
    std::unique_ptr<net::http_client> http_;
    std::unique_ptr<acme::client> client_;
    bool registered_ = false;
    bool registering_ = false;
    boost::asio::steady_timer registration_done_; // never expires: cancelled to wake waiters
};

} // namespace certfleet::app

#pragma once
// The acme-dns compatible API as `certfleet serve` runs it ([acmedns]): its own HTTP listener,
// plain or TLS, on the io_context the store is used from; the API over the store and the DNS
// authority's challenge records; and a timer that keeps the zone in step with the store (expired
// values out, other processes' changes in) every few seconds.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "app/settings.hpp"
#include "core/challenge_board.hpp"
#include "core/store.hpp"
#include "dns/acmedns_api.hpp"

namespace certfleet::app {

class acmedns_service
{
public:
    // `may_register`: whether a bearer token may register (API tokens of scope register/admin).
    acmedns_service(
        boost::asio::io_context& io,
        const acmedns_settings& settings,
        core::store& store,
        core::challenge_board& board,
        std::function<bool(std::string_view bearer_token)> may_register
    );
    ~acmedns_service();
    acmedns_service(const acmedns_service&) = delete;
    acmedns_service& operator=(const acmedns_service&) = delete;

    // Serves the stored values again, then listens; false (with a message printed) when it
    // cannot listen or its TLS files cannot be used.
    [[nodiscard]] bool start();
    void stop();

    [[nodiscard]] dns::acmedns_api& api() noexcept { return api_; }
    [[nodiscard]] const dns::acmedns_stats& stats() const noexcept { return api_.stats(); }

private:
    void sync_later();

    boost::asio::io_context& io_;
    const acmedns_settings& settings_;
    dns::acmedns_api api_;
    std::unique_ptr<net::http_server> server_;
    boost::asio::steady_timer timer_;
};

} // namespace certfleet::app

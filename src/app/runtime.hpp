#pragma once
// What `certfleet serve` and a sweep without a server run on one io_context: the DNS authority
// (serving again, at once, the challenge records of orders a crash interrupted), the issuer and
// the scheduler, over the opened state; and for `serve`, the acme-dns API when configured.

#include <boost/asio/io_context.hpp>
#include <memory>

#include "app/acmedns_service.hpp"
#include "app/authority.hpp"
#include "app/issuer.hpp"
#include "app/metrics.hpp"
#include "app/scheduler.hpp"
#include "app/state.hpp"
#include "core/challenge_observer.hpp"

namespace certfleet::app {

class runtime
{
public:
    runtime(boost::asio::io_context& io, const server_settings& settings, state& opened);

    // Listens for DNS and re-publishes the stored challenge records; false (with a message
    // printed) when it cannot listen.
    [[nodiscard]] bool start_dns();
    // Serves the acme-dns API when [acmedns] enables it; false (with a message printed) when it
    // cannot.
    [[nodiscard]] bool start_acmedns();
    void stop();

    [[nodiscard]] app::issuer& issuer() noexcept { return issuer_; }
    [[nodiscard]] app::scheduler& scheduler() noexcept { return scheduler_; }
    [[nodiscard]] app::authority& authority() noexcept { return authority_; }
    // The acme-dns API (its counters for /metrics); null unless start_acmedns() started it.
    [[nodiscard]] acmedns_service* acmedns() noexcept { return acmedns_.get(); }

    // What GET /metrics reads (app/metrics.hpp): the store, the DNS server, the issuer's
    // counters and, once start_acmedns() started it, the acme-dns API's; valid while this
    // runtime lives.
    [[nodiscard]] metrics_sources metrics() const;

private:
    // The DNS side's news of a CA validating, handed to the issuer on its own executor.
    class validation_observer final : public core::challenge_observer
    {
    public:
        validation_observer(boost::asio::any_io_executor executor, app::issuer*& issuer)
            : executor_(std::move(executor)), issuer_(issuer)
        {}
        void challenge_queried(std::string_view fqdn) noexcept override;

    private:
        boost::asio::any_io_executor executor_;
        app::issuer*& issuer_;
    };

    [[nodiscard]] dns::dns_config observed(const dns::dns_config& config);

    boost::asio::io_context& io_;
    const server_settings& settings_;
    state& state_;
    std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
    app::issuer* issuer_ptr_ = nullptr;
    validation_observer observer_;
    app::authority authority_;
    app::issuer issuer_;
    app::scheduler scheduler_;
    std::unique_ptr<acmedns_service> acmedns_;
};

} // namespace certfleet::app

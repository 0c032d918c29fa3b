#include "app/runtime.hpp"

#include <boost/asio/post.hpp>

#include "app/api_tokens.hpp"
#include "app/log.hpp"

namespace certfleet::app {

void runtime::validation_observer::challenge_queried(std::string_view fqdn) noexcept
{
    try {
        boost::asio::post(executor_, [this, name = std::string(fqdn)] {
            if (issuer_ != nullptr) {
                issuer_->challenge_queried(name);
            }
        });
    } catch (...) {
        // No memory to queue it: the order polls at its own pace.
    }
}

dns::dns_config runtime::observed(const dns::dns_config& config)
{
    auto copy = config;
    copy.server.observer = &observer_;
    return copy;
}

runtime::runtime(boost::asio::io_context& io, const server_settings& settings, state& opened)
    : io_(io), settings_(settings), state_(opened), observer_(io.get_executor(), issuer_ptr_),
      authority_(io, observed(settings.dns)),
      issuer_(io.get_executor(), *opened.store, opened.vault, settings, authority_.challenges()),
      scheduler_(io.get_executor(), *opened.store, issuer_, settings)
{
    issuer_ptr_ = &issuer_;
}

bool runtime::start_dns()
{
    auto stored = state_.store->challenges_in_flight();
    if (!stored) {
        log(level::error,
            "cannot read the challenge records in flight: " + stored.error().message());
        return false;
    }
    for (const auto& c : *stored) {
        if (auto ec = authority_.challenges().present(c.fqdn, c.value, c.ttl)) {
            log(level::warn,
                "cannot serve the stored challenge record at " + c.fqdn + ": " + ec.message());
        }
    }
    if (!stored->empty()) {
        log(level::info, "serving " + std::to_string(stored->size()) +
                             " challenge record(s) of orders in flight");
    }
    return authority_.start();
}

bool runtime::start_acmedns()
{
    if (!settings_.acmedns.enabled) {
        return true;
    }
    // A live API token of scope register (or admin) may register; tokens are read at each
    // registration, so one created or revoked from the command line counts at once.
    auto may_register = [store = state_.store.get()](std::string_view secret) {
        const auto tokens = store->list_api_tokens();
        if (!tokens) {
            return false;
        }
        const auto token = authenticate(*tokens, secret, std::chrono::system_clock::now());
        const auto scope = token ? scope_from_string(token->scope) : std::nullopt;
        return scope && scope_allows(*scope, api_scope::register_acmedns);
    };
    acmedns_ = std::make_unique<acmedns_service>(
        io_, settings_.acmedns, *state_.store, authority_.challenges(), std::move(may_register)
    );
    return acmedns_->start();
}

metrics_sources runtime::metrics() const
{
    metrics_sources sources;
    sources.store = state_.store.get();
    sources.dns_stats = [this] { return authority_.server().stats(); };
    sources.issuance = &issuer_.counters();
    sources.started = started_;
    if (acmedns_) {
        sources.collectors.push_back(acmedns_metrics(acmedns_->stats()));
    }
    return sources;
}

void runtime::stop()
{
    scheduler_.stop();
    if (acmedns_) {
        acmedns_->stop();
    }
    authority_.stop();
}

} // namespace certfleet::app

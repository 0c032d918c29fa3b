// The issuer and the CA's renewal window (ARI, RFC 9773): fetched after issuance, asked again
// at its Retry-After, and turned into the certificate's next attempt.
#include "app/issuer_run.hpp"
#include "app/log.hpp"
#include "app/planning.hpp"
#include "app/state.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using clock = std::chrono::system_clock;

asio::awaitable<void>
issuer::fetch_renewal_window(run_context& ctx, std::string /*chain_pem*/, run_result& result)
{
    auto plan = co_await update_window(*ctx.session, ctx.cert);
    if (plan) {
        result.next_attempt_at = plan->renew_at;
        result.alert = plan->alert;
    }
}

asio::awaitable<std::optional<core::renewal_plan>>
issuer::update_window(ca_session& session, core::certificate_record& cert)
{
    auto version = store_.latest_version(cert.id);
    if (!version || !*version) {
        co_return std::nullopt;
    }
    auto directory = co_await session.client().load_directory();
    if (!directory || directory->renewal_info.empty()) {
        if ((*version)->ari_retry_at) { // the CA stopped offering ARI: nothing to ask again
            (void)store_.update_ari((*version)->id, std::nullopt, std::nullopt, std::nullopt);
        }
        co_return std::nullopt; // no ARI at this CA: the lifetime rule applies
    }
    // The identifier stored with the version spares parsing the chain again.
    acme::outcome<acme::renewal_info_result> info = acme::failure{};
    if ((*version)->ari_cert_id.empty()) {
        info = co_await session.client().renewal_info((*version)->chain_pem);
    } else {
        info = co_await session.client().renewal_info_by_id((*version)->ari_cert_id);
    }
    const auto now = clock::now();
    if (!info) {
        log(level::info, "certificate " + std::to_string(cert.id) +
                             ": no renewal window from the CA: " + info.error().message());
        // Ask again later rather than at every wake: an hour, or the CA's Retry-After.
        const auto retry = info.error().retry_after().value_or(std::chrono::seconds(3600));
        (void)store_.update_ari(
            (*version)->id, (*version)->ari_window_start, (*version)->ari_window_end, now + retry
        );
        co_return std::nullopt;
    }
    // RFC 9773 4.3: without a Retry-After, ask again within a day (6 h is the suggestion).
    const auto retry = info->retry_after.value_or(std::chrono::hours(6));
    (void)store_.update_ari((*version)->id, info->window.start, info->window.end, now + retry);
    (*version)->ari_window_start = info->window.start;
    (*version)->ari_window_end = info->window.end;
    (*version)->ari_retry_at = now + retry;
    if (cert.state == core::certificate_state::valid) {
        cert.next_attempt_at.reset(); // the new window decides
    }
    const auto plan = plan_for(planning_row_of(cert, *version), settings_.renewal, now);
    cert.next_attempt_at = plan.renew_at;
    cert.alert = plan.alert;
    (void)store_.update_certificate(cert);
    co_return plan;
}

asio::awaitable<void> issuer::refresh_window(core::row_id certificate_id)
{
    auto cert = store_.get_certificate(certificate_id);
    if (!cert || cert->state == core::certificate_state::revoked) {
        co_return;
    }
    try {
        auto& s = session(cert->spec.ca);
        (void)co_await update_window(s, *cert);
    } catch (const startup_error& e) {
        log(level::warn, "certificate " + std::to_string(certificate_id) + ": " + e.what());
    }
}

} // namespace certfleet::app

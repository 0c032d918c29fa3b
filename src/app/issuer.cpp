#include "app/issuer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "acme/ari.hpp"
#include "app/cli_support.hpp"
#include "app/config_file.hpp"
#include "app/issuer_run.hpp"
#include "app/log.hpp"
#include "app/planning.hpp"
#include "app/preflight.hpp"
#include "app/sealed_keys.hpp"
#include "app/state.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using clock = std::chrono::system_clock;

namespace {

std::string names_text(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

// How long to wait before resuming after a transient failure: 10 s doubling per attempt, at
// most 10 minutes, never before the CA's Retry-After.
clock::time_point transient_retry_at(const acme::failure& f, int attempts, clock::time_point now)
{
    const int doublings = std::clamp(attempts - 1, 0, 6);
    auto wait = std::min<std::chrono::seconds>(
        std::chrono::seconds(10) * (1 << doublings), std::chrono::minutes(10)
    );
    if (auto retry = f.retry_after()) {
        wait = std::max(wait, *retry);
    }
    return now + wait;
}

// GCC 12 destroys the captures of a coroutine lambda twice: the pool runs a plain function.
asio::awaitable<preflight_report>
preflight_on_pool(preflight_request request, preflight_settings settings)
{
    co_return run_preflight(request, settings);
}

// RFC 8555 6.7: the request named an account the CA does not have.
bool account_unknown(const acme::failure& f)
{
    return f.ca_problem && f.ca_problem->is("accountDoesNotExist");
}

} // namespace
// A failure worth retrying soon, not a failed renewal: the network, the CA's 5xx, its rate
// limits, nonces that kept being refused, an order that outlived our patience.
bool is_transient(const acme::failure& f)
{
    if (f.code.category() != acme::acme_category()) {
        return f.code.category() != core::core_category(); // transport, not our store or keys
    }
    switch (static_cast<acme::errc>(f.code.value())) {
    case acme::errc::rate_limited:
    case acme::errc::timeout:
    case acme::errc::bad_nonce_exhausted:
        return true;
    case acme::errc::problem:
        return f.ca_problem && f.ca_problem->status >= 500;
    default:
        return false;
    }
}

std::string_view to_string(run_outcome o) noexcept
{
    switch (o) {
    case run_outcome::issued:
        return "issued";
    case run_outcome::failed:
        return "failed";
    case run_outcome::retrying:
        return "retrying";
    case run_outcome::preflight_failed:
        return "preflight_failed";
    case run_outcome::busy:
        return "busy";
    case run_outcome::skipped:
        return "skipped";
    }
    return "unknown";
}

issuer::issuer(
    asio::any_io_executor executor,
    core::store& store,
    const core::key_vault& vault,
    const server_settings& settings,
    core::challenge_board& zone
)
    : executor_(std::move(executor)), store_(store), vault_(vault), settings_(settings), zone_(zone)
{
    // Every configured CA's runs exist at 0 from the start, so that rates over them are known.
    for (const auto& ca : settings_.cas) {
        for (const auto outcome : all_run_outcomes) {
            counters_.runs.touch({ca.name, to_string(outcome)});
        }
    }
}

issuer::~issuer()
{
    lookups_.join();
}

ca_session& issuer::session(std::string_view ca)
{
    if (auto it = sessions_.find(ca); it != sessions_.end()) {
        return *it->second;
    }
    const auto* configured = find_ca(settings_, ca);
    if (configured == nullptr) {
        throw startup_error(
            "no CA named '" + std::string(ca) +
            "' is configured: add it as [acme] (the CA named \"default\") or a [[ca]] table"
        );
    }
    auto created = std::make_unique<ca_session>(executor_, *configured, store_, vault_, &counters_);
    auto& ref = *created;
    sessions_.emplace(std::string(ca), std::move(created));
    return ref;
}

unsigned issuer::running(std::string_view ca) const
{
    const auto it = running_->find(ca);
    return it == running_->end() ? 0 : it->second;
}

void issuer::count(std::string_view ca, const run_result& result)
{
    counters_.runs.add({ca, to_string(result.outcome)});
    if (!result.reason.empty()) {
        counters_.failures.add({ca, result.reason});
    }
}

void issuer::challenge_queried(std::string_view fqdn)
{
    const auto it = wakeups_.find(core::lower_name(fqdn));
    if (it == wakeups_.end()) {
        return;
    }
    if (auto wakeup = it->second.lock()) {
        wakeup->poke(clock::now());
    }
}

void issuer::event(std::optional<core::row_id> certificate, std::string kind, std::string message)
{
    core::event_record e;
    e.at = clock::now();
    e.certificate_id = certificate;
    e.kind = std::move(kind);
    e.message = std::move(message);
    if (auto r = store_.append_event(e); !r) {
        log(level::warn, "cannot append to the event log: " + r.error().message());
    }
}

asio::awaitable<run_result> issuer::run(core::row_id certificate_id)
{
    auto cert = store_.get_certificate(certificate_id);
    if (!cert || cert->state == core::certificate_state::revoked) {
        run_result r;
        r.certificate_id = certificate_id;
        r.outcome = run_outcome::skipped;
        r.problem = cert ? "revoked: it is not renewed" : "no such certificate";
        co_return r;
    }
    const auto owner = this_process();
    auto locked = store_.try_lock_certificate(certificate_id, owner, clock::now());
    if (!locked) {
        co_return store_unwritable(*cert, locked.error());
    }
    if (!*locked) {
        run_result r;
        r.certificate_id = certificate_id;
        r.names = cert->spec.names;
        r.outcome = run_outcome::busy;
        r.problem = "another certfleet process is issuing it now";
        co_return r;
    }
    // Releases the lock and the CA's count when the run ends, or when its frame is destroyed
    // at shutdown (the io_context goes first: only the store and the counts are touched then).
    struct release
    {
        core::store& store;
        std::shared_ptr<std::map<std::string, unsigned, std::less<>>> running;
        core::row_id id;
        core::lock_owner owner;
        std::string ca;
        ~release()
        {
            --(*running)[ca];
            (void)store.unlock_certificate(id, owner);
        }
    } guard{store_, running_, certificate_id, owner, cert->spec.ca};
    ++(*running_)[cert->spec.ca];
    co_return co_await run_locked(std::move(*cert));
}

run_result
issuer::store_unwritable(const core::certificate_record& cert, boost::system::error_code ec)
{
    // Nothing can be recorded (a full disk, a broken database): no order is placed, and the
    // run is tried again later, not counted as the CA's failure.
    run_result r;
    r.certificate_id = cert.id;
    r.names = cert.spec.names;
    r.outcome = run_outcome::retrying;
    r.problem = "cannot take its lock in the store: " + ec.message();
    r.reason = acme::failure_class(acme::failure{ec, std::nullopt, {}});
    r.next_attempt_at = clock::now() + store_retry_delay;
    log(level::warn, "certificate " + std::to_string(cert.id) + ": " + r.problem +
                         "; no order placed, trying again in " +
                         std::to_string(store_retry_delay.count()) + " s");
    return r;
}

asio::awaitable<run_result> issuer::run_locked(core::certificate_record cert)
{
    run_context ctx;
    ctx.cert = std::move(cert);
    const auto id = ctx.cert.id;
    if (auto v = store_.latest_version(id); v) {
        ctx.previous = std::move(*v);
    }
    if (auto unmanaged = resolve_targets(ctx)) {
        co_return record_preflight_failure(
            ctx,
            *unmanaged + " is not a managed domain: run `certfleet domain add " + *unmanaged +
                "` and create the CNAME it prints",
            "preflight_unmanaged_domain"
        );
    }
    try {
        ctx.session = &session(ctx.cert.spec.ca);
    } catch (const startup_error& e) {
        co_return record_preflight_failure(ctx, e.what(), "preflight_ca_unavailable");
    }
    // The account first: CAA's accounturi (RFC 8657) names it.
    auto account = co_await ctx.session->ensure_account();
    if (!account) {
        co_return record_failure(ctx, account.error());
    }
    log(level::debug, "certificate " + std::to_string(ctx.cert.id) + ": preflight");
    if (auto report = co_await preflight(ctx)) {
        const std::string reason = "preflight_" + std::string(report->failed_check());
        co_return record_preflight_failure(ctx, report->problems(), reason);
    }
    log(level::debug, "certificate " + std::to_string(ctx.cert.id) + ": preflight passed");
    auto issued = co_await order(ctx);
    if (!issued && account_unknown(issued.error())) {
        // The account kept from an earlier registration is gone at the CA: register again and
        // place the order once more.
        log(level::warn,
            "CA " + ctx.cert.spec.ca + " no longer knows the stored account: registering it again");
        ctx.session->forget_account();
        if (auto again = co_await ctx.session->ensure_account(); !again) {
            co_return record_failure(ctx, again.error());
        }
        issued = co_await order(ctx);
    }
    if (!issued) {
        co_return record_failure(ctx, issued.error());
    }
    const auto leaf_pem = issued->certificate_pem;
    auto result = record_success(ctx, std::move(*issued));
    if (result.outcome == run_outcome::issued) {
        co_await fetch_renewal_window(ctx, leaf_pem, result);
    }
    co_return result;
}

std::optional<std::string> issuer::resolve_targets(run_context& ctx) const
{
    for (const auto& name : ctx.cert.spec.names) {
        auto bare = core::managed_name_for(name);
        auto d = store_.find_domain(bare);
        if (!d) {
            return bare;
        }
        ctx.targets[bare] = delegation_target(settings_, d->label);
    }
    return std::nullopt;
}

asio::awaitable<preflight_request> issuer::preflight_request_for(const run_context& ctx)
{
    preflight_request request;
    for (const auto& name : ctx.cert.spec.names) {
        const auto bare = core::managed_name_for(name);
        request.names.push_back({name, ctx.targets.at(bare)});
    }
    request.ca_domains = ctx.session->settings().caa_identities;
    if (request.ca_domains.empty()) {
        if (auto directory = co_await ctx.session->client().load_directory()) {
            request.ca_domains = directory->meta.caa_identities; // RFC 8555 7.1.1
        }
    }
    request.account_uri = ctx.session->client().account_url();
    co_return request;
}

asio::awaitable<preflight_report> issuer::run_preflight_checks(preflight_request request)
{
    // The lookups block: they run on the pool, and the order resumes here afterwards.
    auto report = co_await asio::co_spawn(
        lookups_.get_executor(), preflight_on_pool(std::move(request), settings_.preflight),
        asio::use_awaitable
    );
    for (const auto& v : report.verdicts) {
        const auto bare = core::managed_name_for(v.name);
        if (v.check == "delegation") {
            (void)store_.record_domain_check(bare, v.status, v.detail, clock::now());
        }
    }
    co_return report;
}

asio::awaitable<void> issuer::precheck(core::row_id certificate_id)
{
    if (!settings_.preflight.delegation && !settings_.preflight.caa) {
        co_return;
    }
    auto cert = store_.get_certificate(certificate_id);
    if (!cert || cert->state == core::certificate_state::revoked) {
        co_return;
    }
    run_context ctx;
    ctx.cert = std::move(*cert);
    if (resolve_targets(ctx)) {
        co_return;
    }
    try {
        ctx.session = &session(ctx.cert.spec.ca);
    } catch (const startup_error&) {
        co_return; // the run says why
    }
    if (!co_await ctx.session->ensure_account()) {
        co_return;
    }
    auto request = co_await preflight_request_for(ctx);
    const auto report = co_await run_preflight_checks(request);
    if (report.ok) {
        passed_ahead_[certificate_id] = passed_preflight{std::move(request), clock::now()};
    }
}

asio::awaitable<std::optional<preflight_report>> issuer::preflight(const run_context& ctx)
{
    if (!settings_.preflight.delegation && !settings_.preflight.caa) {
        co_return std::nullopt;
    }
    auto request = co_await preflight_request_for(ctx);
    if (auto ahead = passed_ahead_.extract(ctx.cert.id)) {
        // A CNAME removed since is caught by the CA's validation; a minute keeps that rare.
        constexpr auto fresh_for = std::chrono::minutes(1);
        if (ahead.mapped().request == request && clock::now() - ahead.mapped().at < fresh_for) {
            co_return std::nullopt;
        }
    }
    auto report = co_await run_preflight_checks(std::move(request));
    if (report.ok) {
        co_return std::nullopt;
    }
    co_return report;
}

run_result issuer::record_success(run_context& ctx, acme::issued_certificate issued)
{
    const auto now = clock::now();
    run_result result;
    result.certificate_id = ctx.cert.id;
    result.names = ctx.cert.spec.names;
    const auto& chain = issued.chain; // parsed by the client when it accepted the download
    if (chain.empty() || !core::certificate_matches_key(chain.front(), issued.key)) {
        return record_failure(
            ctx,
            acme::failure{
                make_error_code(core::errc::invalid_certificate), std::nullopt,
                "the CA's certificate is unreadable or does not match our key"}
        );
    }
    const auto& leaf = chain.front();
    core::certificate_version v;
    v.certificate_id = ctx.cert.id;
    v.chain_pem = issued.certificate_pem;
    if (!ctx.order.key_sealed.empty()) {
        v.key_sealed = ctx.order.key_sealed;
    } else {
        const auto pem = core::secret::adopt(issued.key.to_pem());
        v.key_sealed = vault_.seal(pem.view(), certificate_key_context(ctx.cert.id)).value();
    }
    v.serial_hex = core::to_hex(leaf.serial);
    v.sha256_hex = core::to_hex(leaf.sha256_fingerprint);
    v.not_before = leaf.not_before;
    v.not_after = leaf.not_after;
    if (leaf.authority_key_id) {
        v.ari_cert_id = acme::ari_cert_id(*leaf.authority_key_id, leaf.serial);
    }
    ctx.cert.state = core::certificate_state::valid;
    ctx.cert.consecutive_failures = 0;
    ctx.cert.last_problem.clear();
    ctx.cert.next_attempt_at.reset();
    const auto plan = plan_for(planning_row_of(ctx.cert, v), settings_.renewal, now);
    ctx.cert.next_attempt_at = plan.renew_at;
    ctx.cert.alert = plan.alert;
    auto version_id = store_.add_version(v, ctx.order.id, ctx.cert, now);
    if (!version_id) {
        return record_failure(
            ctx, acme::failure{version_id.error(), std::nullopt, "store the issued certificate"}
        );
    }
    v.id = *version_id;
    event(
        ctx.cert.id, "issued",
        "issued " + names_text(ctx.cert.spec.names) + ", serial " + v.serial_hex + ", expires " +
            format_time(v.not_after)
    );
    log(level::info, "certificate " + std::to_string(ctx.cert.id) + " issued (" +
                         names_text(ctx.cert.spec.names) + "), serial " + v.serial_hex);
    result.outcome = run_outcome::issued;
    result.serial_hex = v.serial_hex;
    result.not_after = v.not_after;
    result.next_attempt_at = plan.renew_at;
    result.alert = plan.alert;
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(now - ctx.started);
    return result;
}

run_result issuer::record_failure(run_context& ctx, const acme::failure& f)
{
    return record_failure(ctx, f, f.message());
}

run_result issuer::record_failure(run_context& ctx, const acme::failure& f, std::string problem)
{
    const auto now = clock::now();
    run_result result;
    result.certificate_id = ctx.cert.id;
    result.names = ctx.cert.spec.names;
    result.problem = std::move(problem);
    result.reason = acme::failure_class(f);
    const bool transient = is_transient(f);
    if (ctx.order.id != 0) {
        // A transient failure keeps the order open: the next attempt resumes it.
        if (!transient) {
            ctx.order.state = core::order_state::failed;
        }
        ctx.order.last_problem = result.problem;
        ctx.order.updated_at = now;
        (void)store_.save_order(ctx.order);
    }
    if (transient) {
        ctx.cert.next_attempt_at = transient_retry_at(f, ctx.order.attempts, now);
        ctx.cert.last_problem = result.problem;
        (void)store_.update_certificate(ctx.cert);
        event(ctx.cert.id, "retrying", result.problem);
        log(level::info, "certificate " + std::to_string(ctx.cert.id) + ": " + result.problem +
                             "; resuming later");
        result.outcome = run_outcome::retrying;
        result.next_attempt_at = ctx.cert.next_attempt_at;
        return result;
    }
    ++ctx.cert.consecutive_failures;
    ctx.cert.state = core::certificate_state::failed;
    ctx.cert.last_problem = result.problem;
    core::renewal_facts facts;
    if (ctx.previous) {
        facts.not_before = ctx.previous->not_before;
        facts.not_after = ctx.previous->not_after;
    }
    facts.consecutive_failures = ctx.cert.consecutive_failures;
    facts.last_failure_at = now;
    if (auto retry = f.retry_after()) {
        facts.ca_retry_at = now + *retry;
    }
    const auto plan = core::plan_renewal(
        facts, settings_.renewal, now, core::stable_draw(ctx.cert.id, ctx.cert.consecutive_failures)
    );
    ctx.cert.next_attempt_at = plan.renew_at;
    ctx.cert.alert = plan.alert;
    (void)store_.update_certificate(ctx.cert);
    event(ctx.cert.id, "failed", result.problem);
    if (plan.alert) {
        event(ctx.cert.id, "alert", "the certificate expires before its next attempt");
    }
    log(level::warn, "certificate " + std::to_string(ctx.cert.id) + " failed: " + result.problem);
    result.outcome = run_outcome::failed;
    result.next_attempt_at = plan.renew_at;
    result.alert = plan.alert;
    return result;
}

run_result
issuer::record_preflight_failure(run_context& ctx, std::string problem, std::string_view reason)
{
    acme::failure f{make_error_code(core::errc::invalid_argument), std::nullopt, problem};
    auto result = record_failure(ctx, f, problem);
    result.outcome = run_outcome::preflight_failed;
    result.reason = reason;
    // The failure event says "failed"; the kind tells monitoring that no order was placed.
    event(ctx.cert.id, "preflight_failed", f.context);
    return result;
}

} // namespace certfleet::app

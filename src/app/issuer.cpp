#include "app/issuer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "acme/ari.hpp"
#include "app/cli_support.hpp"
#include "app/config_file.hpp"
#include "app/log.hpp"
#include "app/planning.hpp"
#include "app/preflight.hpp"
#include "app/state.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using clock = std::chrono::system_clock;

namespace {

std::string certificate_key_context(core::row_id certificate_id)
{
    return "certificate-key/" + std::to_string(certificate_id);
}

std::string names_text(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out;
}

core::order_state state_of(acme::order_phase p)
{
    using acme::order_phase;
    switch (p) {
    case order_phase::creating:
        return core::order_state::ordering;
    case order_phase::fetching_authorizations:
        return core::order_state::authorizing;
    case order_phase::presenting:
        return core::order_state::publishing;
    case order_phase::answering:
        return core::order_state::answering;
    case order_phase::polling_validation:
    case order_phase::collecting_errors:
    case order_phase::cleaning_up:
        return core::order_state::validating;
    case order_phase::creating_csr:
    case order_phase::finalizing:
    case order_phase::polling_issuance:
        return core::order_state::finalizing;
    case order_phase::downloading:
    case order_phase::fetching_alternates:
    case order_phase::done:
        return core::order_state::downloading;
    }
    return core::order_state::ordering;
}

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

} // namespace

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

struct issuer::run_context
{
    core::certificate_record cert;
    std::optional<core::certificate_version> previous;
    ca_session* session = nullptr;
    core::order_record order;
    std::map<std::string, std::string> targets; // managed name (no "*.") → "<label>.<zone>"
    std::shared_ptr<acme::order_wakeup> wakeup = std::make_shared<acme::order_wakeup>();
    clock::time_point started = clock::now();
};

using issuer_targets = std::map<std::string, std::string>;

// The order's view of our zone: each value goes to its name's label, recorded in the store
// first so that a restart serves it again at once.
class order_board final : public core::challenge_board
{
public:
    order_board(
        core::store& store,
        core::challenge_board& zone,
        const issuer_targets& targets,
        core::row_id order_id
    )
        : store_(store), zone_(zone), targets_(targets), order_id_(order_id)
    {}

    boost::system::error_code
    present(std::string_view fqdn, std::string_view value, std::chrono::seconds ttl) override
    {
        const auto name = core::managed_name_of(fqdn);
        const auto target = name ? targets_.find(*name) : targets_.end();
        if (target == targets_.end()) {
            return make_error_code(core::errc::not_found);
        }
        auto stored = store_.add_challenge({order_id_, target->second, std::string(value), ttl});
        if (!stored) {
            return stored.error();
        }
        return zone_.present(target->second, value, ttl);
    }

    void cleanup(std::string_view fqdn, std::string_view value) override
    {
        const auto name = core::managed_name_of(fqdn);
        const auto target = name ? targets_.find(*name) : targets_.end();
        if (target == targets_.end()) {
            return;
        }
        zone_.cleanup(target->second, value);
        if (auto removed = store_.remove_challenge(order_id_, target->second, value); !removed) {
            log(level::warn,
                "cannot remove a challenge record from the store: " + removed.error().message());
        }
    }

private:
    core::store& store_;
    core::challenge_board& zone_;
    const issuer_targets& targets_;
    core::row_id order_id_;
};

issuer::issuer(
    asio::any_io_executor executor,
    core::store& store,
    const core::key_vault& vault,
    const server_settings& settings,
    core::challenge_board& zone
)
    : executor_(std::move(executor)), store_(store), vault_(vault), settings_(settings), zone_(zone)
{}

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
    auto created = std::make_unique<ca_session>(executor_, *configured, store_, vault_);
    auto& ref = *created;
    sessions_.emplace(std::string(ca), std::move(created));
    return ref;
}

unsigned issuer::running(std::string_view ca) const
{
    const auto it = running_->find(ca);
    return it == running_->end() ? 0 : it->second;
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
    if (!locked || !*locked) {
        run_result r;
        r.certificate_id = certificate_id;
        r.names = cert->spec.names;
        r.outcome = run_outcome::busy;
        r.problem = locked ? "another certfleet process is issuing it now"
                           : "cannot take its lock in the store: " + locked.error().message();
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

asio::awaitable<run_result> issuer::run_locked(core::certificate_record cert)
{
    run_context ctx;
    ctx.cert = std::move(cert);
    const auto id = ctx.cert.id;
    if (auto v = store_.latest_version(id); v) {
        ctx.previous = std::move(*v);
    }
    for (const auto& name : ctx.cert.spec.names) {
        const auto bare = core::managed_name_for(name);
        auto d = store_.find_domain(bare);
        if (!d) {
            co_return record_preflight_failure(
                ctx, bare + " is not a managed domain: run `certfleet domain add " + bare +
                         "` and create the CNAME it prints"
            );
        }
        ctx.targets[bare] = delegation_target(settings_, d->label);
    }
    try {
        ctx.session = &session(ctx.cert.spec.ca);
    } catch (const startup_error& e) {
        co_return record_preflight_failure(ctx, e.what());
    }
    // The account first: CAA's accounturi (RFC 8657) names it.
    auto account = co_await ctx.session->ensure_account();
    if (!account) {
        co_return record_failure(ctx, account.error());
    }
    log(level::debug, "certificate " + std::to_string(ctx.cert.id) + ": preflight");
    if (auto problem = co_await preflight(ctx)) {
        co_return record_preflight_failure(ctx, std::move(*problem));
    }
    log(level::debug, "certificate " + std::to_string(ctx.cert.id) + ": preflight passed");
    auto issued = co_await order(ctx);
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

asio::awaitable<std::optional<std::string>> issuer::preflight(const run_context& ctx)
{
    if (!settings_.preflight.delegation && !settings_.preflight.caa) {
        co_return std::nullopt;
    }
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
    const auto settings = settings_.preflight;
    // The lookups block: they run on the pool, and the order resumes here afterwards.
    auto report = co_await asio::co_spawn(
        lookups_.get_executor(), preflight_on_pool(std::move(request), settings),
        asio::use_awaitable
    );
    for (const auto& v : report.verdicts) {
        const auto bare = core::managed_name_for(v.name);
        if (v.check == "delegation") {
            (void)store_.record_domain_check(bare, v.status, v.detail, clock::now());
        }
    }
    if (report.ok) {
        co_return std::nullopt;
    }
    co_return report.problems();
}

asio::awaitable<acme::outcome<acme::issued_certificate>> issuer::order(run_context& ctx)
{
    const auto now = clock::now();
    auto open = store_.open_order(ctx.cert.id);
    if (!open) {
        co_return acme::failure{open.error(), std::nullopt, "read the open order"};
    }
    for (int round = 0;; ++round) {
        if (*open) {
            ctx.order = std::move(**open);
        } else {
            ctx.order = core::order_record{};
            ctx.order.certificate_id = ctx.cert.id;
            ctx.order.created_at = ctx.order.updated_at = now;
            if (ctx.previous && !ctx.previous->ari_cert_id.empty() &&
                ctx.previous->ari_window_start) {
                ctx.order.replaces = ctx.previous->ari_cert_id; // RFC 9773 5
            }
            auto created = store_.create_order(ctx.order);
            if (!created) {
                co_return acme::failure{created.error(), std::nullopt, "create the order record"};
            }
            ctx.order.id = *created;
            event(ctx.cert.id, "order_created", "order " + std::to_string(ctx.order.id));
        }
        ++ctx.order.attempts;
        ctx.order.updated_at = clock::now();
        if (auto saved = store_.save_order(ctx.order); !saved) {
            co_return acme::failure{saved.error(), std::nullopt, "record the order attempt"};
        }
        const bool resumed = !ctx.order.order_url.empty();

        acme::order_request request;
        request.names = ctx.cert.spec.names;
        request.key_type =
            core::key_type_from_string(ctx.cert.spec.key_type).value_or(core::key_type::ec_p256);
        request.profile = ctx.cert.spec.profile;
        request.timeout = settings_.order_timeout;
        request.challenge_ttl = settings_.dns.challenge_ttl;
        request.replaces = ctx.order.replaces;
        request.preferred_chain_issuer = ctx.session->settings().preferred_chain;
        if (resumed) {
            request.resume_order_url = ctx.order.order_url;
        }

        acme::key_hooks hooks;
        hooks.on_progress = [&](const acme::order_progress& p) -> boost::system::error_code {
            auto& o = ctx.order;
            const auto next = state_of(p.phase);
            const auto state = core::may_advance(o.state, next) ? next : o.state;
            if (state == o.state && p.order_url == o.order_url &&
                p.finalize_url == o.finalize_url && p.certificate_url == o.certificate_url &&
                p.authorization_urls == o.authorization_urls) {
                return {};
            }
            if (state != o.state) {
                log(level::debug, "certificate " + std::to_string(ctx.cert.id) + ": order " +
                                      std::to_string(o.id) + " " +
                                      std::string(core::to_string(state)));
            }
            o.state = state;
            o.order_url = p.order_url;
            o.finalize_url = p.finalize_url;
            o.certificate_url = p.certificate_url;
            o.authorization_urls = p.authorization_urls;
            o.updated_at = clock::now();
            auto saved = store_.save_order(o);
            return saved ? boost::system::error_code{} : saved.error();
        };
        hooks.save_key = [&](std::string_view, const core::private_key& key) {
            const auto pem = core::secret::adopt(key.to_pem());
            auto sealed = vault_.seal(pem.view(), certificate_key_context(ctx.cert.id));
            if (!sealed) {
                return sealed.error();
            }
            ctx.order.key_sealed = std::move(*sealed);
            ctx.order.state = core::order_state::finalizing;
            ctx.order.updated_at = clock::now();
            auto saved = store_.save_order(ctx.order);
            return saved ? boost::system::error_code{} : saved.error();
        };
        hooks.load_key = [&](std::string_view) -> std::optional<core::private_key> {
            if (ctx.order.key_sealed.empty()) {
                return std::nullopt;
            }
            auto pem = vault_.open(ctx.order.key_sealed, certificate_key_context(ctx.cert.id));
            if (!pem) {
                return std::nullopt;
            }
            auto key = core::private_key::from_pem(pem->view());
            return key ? std::optional<core::private_key>(std::move(*key)) : std::nullopt;
        };
        hooks.wakeup = ctx.wakeup;
        for (const auto& [name, target] : ctx.targets) {
            wakeups_[target] = ctx.wakeup;
        }
        order_board board(store_, zone_, ctx.targets, ctx.order.id);
        auto issued = co_await ctx.session->client().issue(request, board, hooks);
        for (const auto& [name, target] : ctx.targets) {
            if (auto it = wakeups_.find(target);
                it != wakeups_.end() && it->second.lock() == ctx.wakeup) {
                wakeups_.erase(it);
            }
        }
        // A resumed order the CA no longer has (gone, expired, invalid before we answered) is
        // replaced by a new one, once. A validation failure is not retried here: it would fail
        // again and count against the CA's limits.
        const bool retry_fresh = !issued && resumed && round == 0 &&
                                 !is_transient(issued.error()) &&
                                 issued.error().code != acme::errc::authorization_invalid;
        if (!retry_fresh) {
            co_return issued;
        }
        log(level::info, "certificate " + std::to_string(ctx.cert.id) +
                             ": the CA no longer has order " + escape(ctx.order.order_url) + " (" +
                             issued.error().message() + "); placing a new one");
        ctx.order.state = core::order_state::failed;
        ctx.order.last_problem = issued.error().message();
        (void)store_.save_order(ctx.order);
        open = std::optional<core::order_record>{};
    }
}

run_result issuer::record_success(run_context& ctx, acme::issued_certificate issued)
{
    const auto now = clock::now();
    run_result result;
    result.certificate_id = ctx.cert.id;
    result.names = ctx.cert.spec.names;
    auto chain = core::parse_pem_chain(issued.certificate_pem);
    if (!chain || chain->empty() || !core::certificate_matches_key(chain->front(), issued.key)) {
        return record_failure(
            ctx,
            acme::failure{
                make_error_code(core::errc::invalid_certificate), std::nullopt,
                "the CA's certificate is unreadable or does not match our key"}
        );
    }
    const auto& leaf = chain->front();
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

run_result issuer::record_preflight_failure(run_context& ctx, std::string problem)
{
    acme::failure f{make_error_code(core::errc::invalid_argument), std::nullopt, problem};
    auto result = record_failure(ctx, f, problem);
    result.outcome = run_outcome::preflight_failed;
    // The failure event says "failed"; the kind tells monitoring that no order was placed.
    event(ctx.cert.id, "preflight_failed", f.context);
    return result;
}

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
    auto info = co_await session.client().renewal_info((*version)->chain_pem);
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

// The issuer's ACME order: a new one or the certificate's open one resumed, every step
// recorded in the store before it runs, the key sealed before the CSR leaves.
#include "app/config_file.hpp"
#include "app/issuer_run.hpp"
#include "app/log.hpp"
#include "app/sealed_keys.hpp"
#include "core/challenge_name.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using clock = std::chrono::system_clock;

namespace {

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

} // namespace

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
            auto saved = store_.save_order_key(ctx.order);
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

} // namespace certfleet::app

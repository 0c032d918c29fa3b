#include "acme/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "acme/ari.hpp"
#include "acme/http_headers.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/csr.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/jwk.hpp"
#include "core/crypto/jws.hpp"
#include "net/url.hpp"

namespace certfleet::acme {
namespace asio = boost::asio;
using http_verb = boost::beast::http::verb;

namespace {

// A pass through `gate`, made on first use: the client learns its executor from its callers.
asio::awaitable<net::work_gate::pass> one_at_a_time(std::unique_ptr<net::work_gate>& gate)
{
    if (!gate) {
        gate = std::make_unique<net::work_gate>(co_await asio::this_coro::executor, 1);
    }
    co_return co_await gate->enter();
}

// GCC 12 miscompiles braced temporaries holding strings inside a co_await expression (they are
// freed twice): requests and step names are built before the co_await, never inside it.
net::http_request plain_request(boost::beast::http::verb method, std::string url)
{
    net::http_request r;
    r.method = method;
    r.url = std::move(url);
    return r;
}

auto now()
{
    return std::chrono::system_clock::now();
}

failure make_failure(boost::system::error_code code, std::string step)
{
    return failure{code, std::nullopt, std::move(step)};
}

// Waits until `at`, or less when the wakeup says the CA is validating now.
asio::awaitable<void> wait_for(
    asio::system_timer& timer,
    std::chrono::system_clock::time_point at,
    const order_machine& machine,
    order_wakeup* wakeup
)
{
    if (wakeup == nullptr) {
        timer.expires_at(at);
        co_await timer.async_wait(asio::use_awaitable);
        co_return;
    }
    wakeup->cancel_wait = [&timer] { timer.cancel(); };
    auto until = wakeup->shorten(at, machine.phase());
    for (;;) {
        timer.expires_at(until);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec != asio::error::operation_aborted) {
            break;
        }
        // Cancelled by a poke: wait again, until the shortened deadline.
        const auto shorter = wakeup->shorten(at, machine.phase());
        if (shorter >= until) {
            break;
        }
        until = shorter;
    }
    wakeup->cancel_wait = nullptr;
}

} // namespace

void order_wakeup::poke(std::chrono::system_clock::time_point seen)
{
    if (used_ || seen_) {
        return;
    }
    seen_ = seen;
    if (cancel_wait) {
        cancel_wait();
    }
}

std::chrono::system_clock::time_point
order_wakeup::shorten(std::chrono::system_clock::time_point at, order_phase phase)
{
    if (!seen_ || used_ || phase != order_phase::polling_validation) {
        return at;
    }
    const auto early = *seen_ + grace_;
    if (early < at) {
        used_ = true;
        return early;
    }
    return at;
}

failure response_failure(
    const net::http_response& r, std::string step, std::chrono::system_clock::time_point at
)
{
    auto p = parse_problem(r.body, r.status);
    if (p) {
        p->retry_after = retry_after_of(r, at);
    }
    const bool limited = r.status == 429 || (p && p->is("rateLimited"));
    return failure{
        limited ? make_error_code(errc::rate_limited) : make_error_code(errc::problem),
        std::move(p), std::move(step)};
}

client::client(net::http_client& http, core::private_key account_key, client_options options)
    : http_(http), key_(std::move(account_key)), options_(std::move(options)),
      key_workers_(std::make_unique<asio::thread_pool>(1))
{}

task<directory> client::load_directory()
{
    if (directory_) {
        co_return *directory_;
    }
    // Orders started together (a server's first sweep) wait for one fetch and share its outcome,
    // the CA's refusal too: a CA that is down is not asked once per waiting order.
    const auto fetches_before = directory_fetches_;
    const auto turn = co_await one_at_a_time(directory_loads_);
    if (directory_fetches_ == fetches_before) {
        last_directory_fetch_ = co_await fetch_directory();
        ++directory_fetches_;
        if (*last_directory_fetch_) {
            directory_ = **last_directory_fetch_;
        }
    }
    co_return *last_directory_fetch_;
}

task<directory> client::fetch_directory()
{
    if (!transport_allowed(options_.directory_url)) {
        co_return make_failure(errc::insecure_url, "directory " + options_.directory_url);
    }
    auto request = plain_request(http_verb::get, options_.directory_url);
    auto r = co_await fetch(std::move(request), endpoint::directory);
    if (!r) {
        co_return make_failure(r.error(), "fetch directory " + options_.directory_url);
    }
    if (r->status != 200) {
        co_return response_failure(*r, "fetch directory", now());
    }
    auto d = parse_directory(r->body);
    if (!d) {
        co_return make_failure(d.error(), "parse directory");
    }
    if (auto url = first_refused_url(*d)) {
        co_return make_failure(errc::insecure_url, "directory names " + *url);
    }
    co_return std::move(*d);
}

asio::awaitable<boost::system::result<net::http_response>>
client::fetch(net::http_request request, endpoint where)
{
    ++stats_.requests;
    auto r = co_await http_.request(std::move(request));
    if (options_.on_request) {
        options_.on_request(request_report{
            where, r ? request_outcome(r->status, r->body) : network_error});
    }
    co_return r;
}

task<std::string> client::take_nonce()
{
    if (auto n = nonces_.take()) {
        co_return std::move(*n);
    }
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    ++stats_.nonces_fetched;
    auto request = plain_request(http_verb::head, d->new_nonce);
    auto r = co_await fetch(std::move(request), endpoint::new_nonce);
    if (!r) {
        co_return make_failure(r.error(), "fetch a nonce");
    }
    if (auto n = r->header("Replay-Nonce")) {
        nonces_.add(*n);
    }
    if (auto n = nonces_.take()) {
        co_return std::move(*n);
    }
    co_return make_failure(errc::missing_field, "newNonce answered without a Replay-Nonce header");
}

task<net::http_response> client::post(
    std::string url, std::optional<nlohmann::json> payload, post_options options, std::string step
)
{
    const core::private_key& key = options.key != nullptr ? *options.key : key_;
    const std::string body = payload ? payload->dump() : std::string();
    for (int attempt = 0;; ++attempt) {
        auto nonce = co_await take_nonce();
        if (!nonce) {
            co_return nonce.error();
        }
        nlohmann::json header{{"alg", core::jws_algorithm(key)}, {"nonce", *nonce}, {"url", url}};
        if (options.by == signer::account_jwk || options.key != nullptr) {
            header["jwk"] = core::public_jwk(key);
        } else {
            header["kid"] = account_url_;
        }
        auto jws = core::sign_jws(key, header, body);
        if (!jws) {
            co_return make_failure(jws.error(), step + ": sign request");
        }
        net::http_request request{http_verb::post, url, jws->dump(), "application/jose+json", {}};
        if (options.accept_pem) {
            request.headers.emplace_back("Accept", "application/pem-certificate-chain");
        }
        auto r = co_await fetch(std::move(request), options.where);
        if (!r) {
            co_return make_failure(r.error(), step);
        }
        if (auto n = r->header("Replay-Nonce")) {
            nonces_.add(*n);
        }
        if (r->status == 400) {
            if (auto p = parse_problem(r->body, r->status); p && p->is("badNonce")) {
                if (attempt < options_.max_bad_nonce_retries) {
                    ++stats_.bad_nonce_retries; // RFC 8555 6.5: retry with the nonce it carried
                    continue;
                }
                co_return failure{
                    make_error_code(errc::bad_nonce_exhausted), std::move(p),
                    step + " (after " + std::to_string(attempt) + " badNonce retries)"};
            }
        }
        co_return std::move(*r);
    }
}

task<account_info> client::new_account(nlohmann::json payload, std::string step)
{
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    post_options by_jwk;
    by_jwk.where = endpoint::new_account;
    by_jwk.by = signer::account_jwk;
    auto r = co_await post(d->new_account, std::move(payload), by_jwk, step);
    if (!r) {
        co_return r.error();
    }
    if (r->status != 200 && r->status != 201) {
        co_return response_failure(*r, step, now());
    }
    const auto location = r->header("Location");
    if (!location) {
        co_return make_failure(
            errc::missing_field, step + ": the CA sent no account URL (Location)"
        );
    }
    auto details = parse_account(r->body);
    if (!details) {
        co_return make_failure(details.error(), step + ": unreadable account");
    }
    account_url_ = net::resolve_reference(d->new_account, *location);
    co_return account_info{account_url_, std::move(*details)};
}

task<account_info> client::register_account(account_options options)
{
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    auto payload = new_account_payload(options.contact, options.agree_to_terms, false);
    if (options.eab) {
        // RFC 8555 7.3.4: the account key, MACed with the key the CA gave out of band.
        auto mac_key = core::base64url_decode(options.eab->hmac_key);
        if (!mac_key) {
            co_return make_failure(
                errc::unsupported, "external account binding: the HMAC key is not base64url"
            );
        }
        const nlohmann::json header{
            {"alg", "HS256"}, {"kid", options.eab->key_id}, {"url", d->new_account}};
        auto binding = core::sign_jws_hs256(*mac_key, header, core::public_jwk(key_).dump());
        if (!binding) {
            co_return make_failure(binding.error(), "external account binding");
        }
        payload["externalAccountBinding"] = std::move(*binding);
    } else if (d->meta.external_account_required) {
        co_return make_failure(
            errc::unsupported,
            "this CA requires external account binding: configure its key id and HMAC key"
        );
    }
    std::string step = "register account";
    auto r = co_await new_account(std::move(payload), step);
    co_return r;
}

task<account_info> client::find_account()
{
    auto payload = new_account_payload({}, false, true);
    std::string step = "find account";
    auto r = co_await new_account(std::move(payload), step);
    co_return r;
}

task<account_info> client::post_account(nlohmann::json payload, std::string step)
{
    if (account_url_.empty()) {
        co_return make_failure(errc::no_account, step);
    }
    const post_options by_kid;
    auto r = co_await post(account_url_, std::move(payload), by_kid, step);
    if (!r) {
        co_return r.error();
    }
    if (r->status != 200) {
        co_return response_failure(*r, step, now());
    }
    auto details = parse_account(r->body);
    if (!details) {
        co_return make_failure(details.error(), step + ": unreadable account");
    }
    co_return account_info{account_url_, std::move(*details)};
}

task<account_info> client::update_contact(std::vector<std::string> contact)
{
    nlohmann::json payload{{"contact", std::move(contact)}};
    std::string step = "update contact";
    auto r = co_await post_account(std::move(payload), step);
    co_return r;
}

task<void> client::deactivate_account()
{
    nlohmann::json payload{{"status", "deactivated"}};
    std::string step = "deactivate account";
    auto r = co_await post_account(std::move(payload), step);
    if (!r) {
        co_return r.error();
    }
    co_return outcome<void>{};
}

task<void> client::rollover_key(core::private_key new_key)
{
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    if (account_url_.empty()) {
        co_return make_failure(errc::no_account, "key rollover");
    }
    // RFC 8555 7.3.5: the inner JWS, signed by the new key, names the account and the old key.
    const nlohmann::json inner_header{
        {"alg", core::jws_algorithm(new_key)},
        {"jwk", core::public_jwk(new_key)},
        {"url", d->key_change}};
    const nlohmann::json inner_payload{
        {"account", account_url_}, {"oldKey", core::public_jwk(key_)}};
    auto inner = core::sign_jws(new_key, inner_header, inner_payload.dump());
    if (!inner) {
        co_return make_failure(inner.error(), "key rollover: sign with the new key");
    }
    post_options by_kid;
    by_kid.where = endpoint::key_change;
    std::string step = "key rollover";
    auto r = co_await post(d->key_change, std::move(*inner), by_kid, step);
    if (!r) {
        co_return r.error();
    }
    if (r->status != 200) {
        co_return response_failure(*r, "key rollover", now());
    }
    key_ = std::move(new_key);
    co_return outcome<void>{};
}

asio::awaitable<boost::system::result<core::private_key>> client::generate_key(core::key_type type)
{
    if (type == core::key_type::ec_p256 || type == core::key_type::ec_p384) {
        co_return core::private_key::generate(type); // microseconds: no need to leave the thread
    }
    // co_spawn needs a default-constructible result: carry the key in an optional.
    struct generated
    {
        std::optional<core::private_key> key;
        boost::system::error_code error;
    };
    auto out = co_await asio::co_spawn(
        key_workers_->get_executor(),
        [type]() -> asio::awaitable<generated> {
            auto key = core::private_key::generate(type);
            if (!key) {
                co_return generated{std::nullopt, key.error()};
            }
            co_return generated{std::move(*key), {}};
        },
        asio::use_awaitable
    );
    if (!out.key) {
        co_return out.error;
    }
    co_return std::move(*out.key);
}

task<issued_certificate>
client::issue(order_request request, core::challenge_board& board, key_hooks hooks)
{
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    if (account_url_.empty()) {
        co_return make_failure(errc::no_account, "issue");
    }
    if (request.profile) {
        const auto& profiles = d->meta.profiles;
        const bool offered = std::any_of(profiles.begin(), profiles.end(), [&](const auto& p) {
            return p.first == *request.profile;
        });
        if (!offered) {
            co_return make_failure(
                errc::unsupported,
                "issue: the CA offers no profile named '" + *request.profile + "'"
            );
        }
    }
    order_machine_options machine_options;
    machine_options.new_order_url = d->new_order;
    machine_options.account_thumbprint = core::jwk_thumbprint(key_);
    machine_options.first_poll_delay = options_.first_poll_delay;
    machine_options.max_poll_delay = options_.max_poll_delay;
    machine_options.first_issuance_poll_delay =
        std::min(options_.first_issuance_poll_delay, options_.first_poll_delay);
    order_machine machine(std::move(request), machine_options);
    std::optional<core::private_key> certificate_key;
    asio::system_timer timer(co_await asio::this_coro::executor);
    event next = started{now()};
    for (;;) {
        action step = machine.resume(next);
        if (hooks.on_progress && !std::holds_alternative<finished>(step)) {
            const order_progress progress{
                machine.phase(), machine.order_url(), machine.finalize_url(),
                machine.certificate_url(), machine.authorization_urls()};
            if (auto ec = hooks.on_progress(progress)) {
                co_return make_failure(ec, "record the order's progress in the store");
            }
        }
        if (auto* done = std::get_if<finished>(&step)) {
            if (!done->result) {
                co_return done->result.error();
            }
            if (!certificate_key && hooks.load_key) {
                // A resumed order the CA had finalized already: its key was stored before the
                // CSR left.
                certificate_key = hooks.load_key(done->result->order_url);
            }
            if (!certificate_key) {
                co_return make_failure(
                    errc::unexpected_status, "issue: certificate issued without a key of ours"
                );
            }
            auto& r = *done->result;
            co_return issued_certificate{std::move(r.certificate_pem), std::move(r.chain),
                                         std::move(*certificate_key),  std::move(r.order_url),
                                         std::move(r.certificate_url), std::move(r.alternate_urls)};
        }
        if (auto* send = std::get_if<send_request>(&step)) {
            post_options how;
            how.where = send->where;
            how.accept_pem = send->accept_pem_chain;
            net::work_gate::pass turn; // newOrder: one at a time (see issue() in client.hpp)
            if (send->where == endpoint::new_order) {
                turn = co_await one_at_a_time(new_orders_);
            }
            auto r = co_await post(send->url, send->payload, how, send->step);
            if (r) {
                next = response_received{std::move(*r), now()};
            } else {
                next = request_failed{r.error().code, now()};
            }
        } else if (auto* present = std::get_if<present_challenges>(&step)) {
            boost::system::error_code ec;
            for (const auto& record : present->records) {
                if ((ec = board.present(record.fqdn, record.value, record.ttl))) {
                    break;
                }
            }
            next = challenges_presented{ec};
        } else if (auto* cleanup = std::get_if<cleanup_challenges>(&step)) {
            for (const auto& record : cleanup->records) {
                board.cleanup(record.fqdn, record.value);
            }
            next = challenges_cleaned{};
        } else if (auto* create = std::get_if<create_key_and_csr>(&step)) {
            if (hooks.load_key) {
                certificate_key = hooks.load_key(create->order_url);
            }
            if (!certificate_key) {
                auto generated = co_await generate_key(create->type);
                if (!generated) {
                    next = csr_created{generated.error()};
                    continue;
                }
                // Stored (encrypted, by the hook) before the CSR leaves: no key is ever lost.
                if (hooks.save_key) {
                    if (auto ec = hooks.save_key(create->order_url, *generated)) {
                        next = csr_created{ec};
                        continue;
                    }
                }
                certificate_key = std::move(*generated);
            }
            next = csr_created{core::make_csr_der(*certificate_key, create->names)};
        } else if (auto* wait = std::get_if<wait_until>(&step)) {
            co_await wait_for(timer, wait->at, machine, hooks.wakeup.get());
            next = timer_fired{now()};
        }
    }
}

task<renewal_info_result> client::renewal_info(std::string leaf_pem)
{
    auto id = ari_cert_id_from_pem(leaf_pem);
    if (!id) {
        co_return make_failure(
            id.error(), "renewal info: cannot compute the certificate's ARI identifier"
        );
    }
    co_return co_await renewal_info_by_id(std::move(*id));
}

task<renewal_info_result> client::renewal_info_by_id(std::string cert_id)
{
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    if (d->renewal_info.empty()) {
        co_return make_failure(
            errc::unsupported,
            "renewal info: this CA does not offer ARI (no renewalInfo in its directory)"
        );
    }
    std::string url = d->renewal_info;
    if (url.empty() || url.back() != '/') {
        url += '/';
    }
    url += cert_id;
    auto request = plain_request(http_verb::get, url);
    auto r = co_await fetch(std::move(request), endpoint::renewal_info);
    if (!r) {
        co_return make_failure(r.error(), "renewal info");
    }
    if (r->status != 200) {
        co_return response_failure(*r, "renewal info", now());
    }
    auto window = parse_renewal_info(r->body);
    if (!window) {
        co_return make_failure(window.error(), "renewal info: unreadable window");
    }
    const auto retry_after = retry_after_of(*r, now());
    co_return renewal_info_result{std::move(*window), retry_after, std::move(cert_id)};
}

task<void>
client::revoke(std::string leaf_pem, int reason, std::optional<core::private_key> certificate_key)
{
    auto d = co_await load_directory();
    if (!d) {
        co_return d.error();
    }
    auto chain = core::parse_pem_chain(leaf_pem);
    if (!chain || chain->empty()) {
        co_return make_failure(errc::malformed_response, "revoke: not a PEM certificate");
    }
    nlohmann::json payload{{"certificate", core::base64url_encode(chain->front().der)}};
    if (reason != 0) {
        payload["reason"] = reason;
    }
    post_options options;
    options.where = endpoint::revoke_cert;
    if (certificate_key) {
        options.key = &*certificate_key; // RFC 8555 7.6: signed by the certificate's key, with jwk
    } else if (account_url_.empty()) {
        co_return make_failure(errc::no_account, "revoke without the certificate's key");
    }
    std::string step = "revoke";
    auto r = co_await post(d->revoke_cert, std::move(payload), options, step);
    if (!r) {
        co_return r.error();
    }
    if (r->status != 200) {
        co_return response_failure(*r, "revoke", now());
    }
    co_return outcome<void>{};
}

} // namespace certfleet::acme

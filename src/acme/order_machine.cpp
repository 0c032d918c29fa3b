#include "acme/order_machine.hpp"

#include <algorithm>
#include <utility>

#include "acme/http_headers.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/hash.hpp"
#include "net/url.hpp"

namespace certfleet::acme {
namespace {

template <class... F> struct overloaded : F...
{
    using F::operator()...;
};
template <class... F> overloaded(F...) -> overloaded<F...>;

} // namespace

std::string_view to_string(order_phase p) noexcept
{
    switch (p) {
    case order_phase::creating:
        return "creating";
    case order_phase::fetching_authorizations:
        return "fetching_authorizations";
    case order_phase::presenting:
        return "presenting";
    case order_phase::answering:
        return "answering";
    case order_phase::polling_validation:
        return "polling_validation";
    case order_phase::collecting_errors:
        return "collecting_errors";
    case order_phase::cleaning_up:
        return "cleaning_up";
    case order_phase::creating_csr:
        return "creating_csr";
    case order_phase::finalizing:
        return "finalizing";
    case order_phase::polling_issuance:
        return "polling_issuance";
    case order_phase::downloading:
        return "downloading";
    case order_phase::fetching_alternates:
        return "fetching_alternates";
    case order_phase::done:
        return "done";
    }
    return "unknown";
}

std::string dns01_txt_value(std::string_view token, std::string_view account_thumbprint)
{
    std::string key_authorization(token);
    key_authorization += '.';
    key_authorization += account_thumbprint;
    return core::base64url_encode(core::sha256(key_authorization));
}

order_machine::order_machine(order_request request, order_machine_options options)
    : request_(std::move(request)), options_(std::move(options))
{}

action order_machine::resume(const event& e)
{
    if (phase_ == order_phase::done) {
        return finished{failure{
            errc::unexpected_status, std::nullopt, "order machine resumed after it finished"}};
    }
    return std::visit(
        overloaded{
            [&](const started& s) -> action {
                now_ = s.now;
                deadline_ = s.now + request_.timeout;
                poll_delay_ = options_.first_poll_delay;
                if (request_.resume_order_url) {
                    order_url_ = *request_.resume_order_url;
                    phase_ = order_phase::polling_validation;
                    return fetch_order("fetch order to resume it");
                }
                return create_order();
            },
            [&](const response_received& r) -> action {
                now_ = r.now;
                return on_response(r.response);
            },
            [&](const request_failed& f) -> action {
                now_ = f.now;
                return on_transient_failure(f.error, std::nullopt, std::nullopt);
            },
            [&](const challenges_presented& p) -> action {
                if (p.error) {
                    return fail(p.error, "present DNS-01 records");
                }
                phase_ = order_phase::answering;
                next_challenge_ = 0;
                return answer_next_challenge();
            },
            [&](const challenges_cleaned&) -> action {
                presented_.clear();
                if (failure_) {
                    return finish_failure();
                }
                return create_csr();
            },
            [&](const csr_created& c) -> action {
                if (!c.csr_der) {
                    return fail(c.csr_der.error(), "create the key and CSR");
                }
                csr_der_ = *c.csr_der;
                return finalize();
            },
            [&](const timer_fired& t) -> action {
                now_ = t.now;
                woken_early_ = now_ < waiting_until_;
                if (now_ > deadline_) {
                    return fail(errc::timeout, "order did not complete in time");
                }
                return last_request_;
            },
        },
        e
    );
}

action order_machine::send(send_request r, bool is_finalize)
{
    last_request_ = std::move(r);
    finalize_in_flight_ = is_finalize;
    woken_early_ = false; // the order moved on: the wait that was cut short is over
    return last_request_;
}

action order_machine::send_at(clock_time at, send_request r)
{
    last_request_ = std::move(r);
    finalize_in_flight_ = false;
    waiting_until_ = at;
    return wait_until{at};
}

action order_machine::create_order()
{
    phase_ = order_phase::creating;
    const auto replaces = replaces_dropped_ ? std::nullopt : request_.replaces;
    return send(send_request{
        options_.new_order_url,
        new_order_payload(dns_identifiers(request_.names), replaces, request_.profile), false,
        "new order", endpoint::new_order});
}

action order_machine::fetch_order(std::string step)
{
    return send(send_request{order_url_, std::nullopt, false, std::move(step), endpoint::order});
}

action order_machine::create_csr()
{
    if (!csr_der_.empty()) {
        return finalize(); // resumed, or finalize failed in transit: the key exists already
    }
    phase_ = order_phase::creating_csr;
    return create_key_and_csr{request_.names, request_.key_type, order_url_};
}

action order_machine::finalize()
{
    phase_ = order_phase::finalizing;
    if (finalize_attempts_ > options_.max_transient_retries) {
        return fail(
            errc::unexpected_status, "finalize: sent " + std::to_string(finalize_attempts_) +
                                         " times, and the order is still ready"
        );
    }
    ++finalize_attempts_;
    poll_delay_ = options_.first_issuance_poll_delay; // issuance is a new wait: a new backoff
    return send(
        send_request{
            finalize_url_, nlohmann::json{{"csr", core::base64url_encode(csr_der_)}}, false,
            "finalize", endpoint::finalize},
        true
    );
}

action order_machine::on_response(const net::http_response& r)
{
    if (r.status >= 400) {
        return on_error_response(r);
    }
    const auto retry_after = retry_after_of(r, now_);
    transient_retries_ = 0;
    if (finalize_in_flight_) {
        finalize_confirmed_ = true;
    }

    switch (phase_) {
    case order_phase::creating: {
        const auto location = r.header("Location");
        if (!location) {
            return fail(errc::missing_field, "new order: the CA sent no Location header");
        }
        order_url_ = net::resolve_reference(options_.new_order_url, *location);
        [[fallthrough]];
    }
    case order_phase::polling_validation:
    case order_phase::polling_issuance:
    case order_phase::finalizing: {
        auto o = parse_order(r.body);
        if (!o) {
            return fail(o.error(), last_request_.step + ": unreadable order");
        }
        return on_order(*o, retry_after);
    }
    case order_phase::fetching_authorizations: {
        auto a = parse_authorization(r.body);
        if (!a) {
            return fail(a.error(), "fetch authorization: unreadable authorization");
        }
        return on_authorization(*a);
    }
    case order_phase::answering:
        if (auto c = parse_challenge(r.body); !c) {
            return fail(c.error(), "answer challenge: unreadable challenge");
        }
        ++next_challenge_;
        return answer_next_challenge();
    case order_phase::collecting_errors: {
        if (auto a = parse_authorization(r.body)) {
            collect_errors(*a);
        }
        ++next_authorization_;
        return collect_next_error();
    }
    case order_phase::downloading:
        return on_certificate(r);
    case order_phase::fetching_alternates:
        return on_alternate(r);
    case order_phase::presenting:
    case order_phase::cleaning_up:
    case order_phase::creating_csr:
    case order_phase::done:
        break;
    }
    return fail(
        errc::unexpected_status, "response received in phase " + std::string(to_string(phase_))
    );
}

action order_machine::on_order(const order& o, std::optional<std::chrono::seconds> retry_after)
{
    finalize_url_ = o.finalize;
    authorization_urls_ = o.authorizations;
    switch (o.state) {
    case status::pending:
        if (phase_ == order_phase::creating ||
            (phase_ == order_phase::polling_validation && !answered_)) {
            phase_ = order_phase::fetching_authorizations;
            next_authorization_ = 0;
            pending_records_.clear();
            challenge_urls_.clear();
            return next_authorization();
        }
        if (phase_ == order_phase::finalizing || phase_ == order_phase::polling_issuance) {
            return fail(errc::unexpected_status, "the order is pending again after finalize");
        }
        return poll_later(retry_after);
    case status::ready:
        if (phase_ == order_phase::finalizing || phase_ == order_phase::polling_issuance) {
            if (!finalize_confirmed_) {
                return finalize(); // the CSR never reached the CA: send it again
            }
            return poll_later(retry_after); // the CA has not taken the CSR into account yet
        }
        if (!presented_.empty()) {
            phase_ = order_phase::cleaning_up;
            return cleanup_challenges{presented_};
        }
        return create_csr();
    case status::processing:
        phase_ = order_phase::polling_issuance;
        return poll_later(retry_after);
    case status::valid:
        if (!o.certificate) {
            return fail(errc::missing_field, "order is valid but names no certificate URL");
        }
        certificate_url_ = net::resolve_reference(order_url_, *o.certificate);
        phase_ = order_phase::downloading;
        return send(send_request{
            certificate_url_, std::nullopt, true, "download certificate", endpoint::certificate});
    case status::invalid:
        order_problem_ = o.error;
        if (!authorization_urls_.empty()) {
            // The order's own error is often terse: the authorizations say which name failed.
            phase_ = order_phase::collecting_errors;
            next_authorization_ = 0;
            return collect_next_error();
        }
        return fail(errc::order_invalid, "the CA marked the order invalid", o.error);
    default:
        return fail(errc::unexpected_status, "order status " + std::string(to_string(o.state)));
    }
}

action order_machine::on_authorization(const authorization& a)
{
    switch (a.state) {
    case status::valid:
        break; // validated earlier (RFC 8555 7.1.4: authorizations may be reused)
    case status::pending: {
        const challenge* c = a.find("dns-01");
        if (c == nullptr) {
            return fail(
                errc::no_dns01_challenge, "the CA offers no dns-01 challenge for " + a.id.value
            );
        }
        challenge_record record{
            core::challenge_name_for(a.id.value),
            dns01_txt_value(c->token, options_.account_thumbprint), request_.challenge_ttl};
        if (std::find(pending_records_.begin(), pending_records_.end(), record) ==
            pending_records_.end()) {
            pending_records_.push_back(std::move(record));
        }
        if (c->state == status::pending) {
            challenge_urls_.push_back(c->url);
        }
        break;
    }
    default: {
        std::optional<problem> p;
        for (const auto& c : a.challenges) {
            if (c.error) {
                p = c.error;
            }
        }
        return fail(
            errc::authorization_invalid,
            "authorization for " + a.id.value + " is " + std::string(to_string(a.state)), p
        );
    }
    }
    ++next_authorization_;
    return next_authorization();
}

action order_machine::next_authorization()
{
    if (next_authorization_ < authorization_urls_.size()) {
        return send(send_request{
            authorization_urls_[next_authorization_], std::nullopt, false, "fetch authorization",
            endpoint::authorization});
    }
    if (pending_records_.empty()) {
        phase_ = order_phase::polling_validation;
        answered_ = true;
        return fetch_order("fetch order");
    }
    // Every value is in our zone before the CA is told to look (RFC 8555 7.5.1).
    phase_ = order_phase::presenting;
    presented_ = pending_records_;
    return present_challenges{pending_records_};
}

action order_machine::answer_next_challenge()
{
    if (next_challenge_ < challenge_urls_.size()) {
        return send(send_request{
            challenge_urls_[next_challenge_], nlohmann::json::object(), false, "answer challenge",
            endpoint::challenge});
    }
    answered_ = true;
    phase_ = order_phase::polling_validation;
    return poll_later(std::nullopt);
}

void order_machine::collect_errors(const authorization& a)
{
    for (const auto& c : a.challenges) {
        if (!c.error) {
            continue;
        }
        collected_.push_back(subproblem{c.error->type, c.error->detail, a.id.type, a.id.value});
    }
}

action order_machine::collect_next_error()
{
    if (next_authorization_ < authorization_urls_.size()) {
        return send(send_request{
            authorization_urls_[next_authorization_], std::nullopt, false,
            "fetch authorization errors", endpoint::authorization});
    }
    problem p = order_problem_.value_or(problem{});
    if (p.type.empty()) {
        p.type = "urn:ietf:params:acme:error:unauthorized";
        p.detail = "validation failed";
    }
    for (auto& s : collected_) {
        p.subproblems.push_back(std::move(s));
    }
    return fail(errc::order_invalid, "the CA marked the order invalid", std::move(p));
}

action order_machine::on_certificate(const net::http_response& r)
{
    auto chain = core::parse_pem_chain(r.body);
    if (!chain || chain->empty()) {
        return fail(errc::malformed_response, "download certificate: not a PEM certificate chain");
    }
    result_.certificate_pem = r.body;
    result_.chain = std::move(*chain);
    result_.order_url = order_url_;
    result_.certificate_url = certificate_url_;
    for (const auto& l : parse_link_headers(r.headers_named("Link"))) {
        if (l.rel == "alternate") {
            result_.alternate_urls.push_back(net::resolve_reference(certificate_url_, l.url));
        }
    }
    if (request_.preferred_chain_issuer &&
        result_.chain.back().issuer_cn != *request_.preferred_chain_issuer &&
        !result_.alternate_urls.empty()) {
        phase_ = order_phase::fetching_alternates;
        next_alternate_ = 0;
        return send(send_request{
            result_.alternate_urls[0], std::nullopt, true, "download alternate chain",
            endpoint::certificate});
    }
    phase_ = order_phase::done;
    return finished{result_};
}

action order_machine::on_alternate(const net::http_response& r)
{
    // The issuer CN at the top of the chain (the certificate closest to the root) decides.
    if (auto chain = core::parse_pem_chain(r.body);
        chain && !chain->empty() && chain->back().issuer_cn == *request_.preferred_chain_issuer) {
        result_.certificate_pem = r.body;
        result_.chain = std::move(*chain);
        result_.certificate_url = result_.alternate_urls[next_alternate_];
        phase_ = order_phase::done;
        return finished{result_};
    }
    if (++next_alternate_ < result_.alternate_urls.size()) {
        return send(send_request{
            result_.alternate_urls[next_alternate_], std::nullopt, true, "download alternate chain",
            endpoint::certificate});
    }
    phase_ = order_phase::done; // no chain from the preferred issuer: keep the default one
    return finished{result_};
}

action order_machine::poll_later(std::optional<std::chrono::seconds> retry_after)
{
    const bool cut_short = std::exchange(woken_early_, false) && waiting_until_ > now_;
    auto at = now_ + poll_delay_;
    if (retry_after) {
        at = now_ + std::min<std::chrono::milliseconds>(*retry_after, max_retry_after);
    } else if (cut_short) {
        // The early look found the CA still at work: polling goes on with the wait that was cut
        // short, not one backoff step further on (one missed look cost a doubled wait).
        at = waiting_until_;
    } else {
        poll_delay_ = std::min(poll_delay_ * 2, options_.max_poll_delay);
    }
    if (at > deadline_) {
        return fail(
            errc::timeout,
            last_request_.step + ": the CA did not finish before the order's deadline"
        );
    }
    return send_at(
        at, send_request{order_url_, std::nullopt, false, "poll order", endpoint::order}
    );
}

} // namespace certfleet::acme

// How the order machine meets failures (see order_machine.hpp): transient ones retry the step
// that met them; the others end the order, after the TXT values are cleaned up.
#include "acme/http_headers.hpp"
#include "acme/order_machine.hpp"

namespace certfleet::acme {
namespace {

// The error code of a failure worth retrying (RFC 8555 6.5, 6.6; RFC 9110 15.6), if it is one.
std::optional<errc> transient_code(unsigned status, const std::optional<problem>& p)
{
    if (status == 429 || (p && p->is("rateLimited"))) {
        return errc::rate_limited;
    }
    if (p && p->is("badNonce")) {
        return errc::bad_nonce_exhausted; // the driver's own badNonce retries ran out
    }
    if (status >= 500) {
        return errc::problem;
    }
    return std::nullopt;
}

} // namespace

action order_machine::on_error_response(const net::http_response& r)
{
    const auto retry_after = retry_after_of(r, now_);
    auto p = parse_problem(r.body, r.status);
    if (p) {
        p->retry_after = retry_after;
    }
    // RFC 9773 5: alreadyReplaced, or a 409 Conflict of another type (Pebble answers a second
    // `replaces` of one certificate with malformed): the renewal matters more than the link to
    // the old certificate.
    if (phase_ == order_phase::creating && request_.replaces && !replaces_dropped_ &&
        ((p && p->is("alreadyReplaced")) || r.status == 409)) {
        replaces_dropped_ = true;
        return create_order();
    }
    if (const auto code = transient_code(r.status, p)) {
        return on_transient_failure(*code, std::move(p), retry_after);
    }
    // RFC 8555 7.4: orderNotReady to a finalize means the CA may have taken an earlier copy
    // (ours after a failure in transit, or one the driver sent again after a badNonce); in any
    // case the order's status says what to do next, and finalize_attempts_ bounds the loop.
    if (finalize_in_flight_ && p && p->is("orderNotReady")) {
        return fetch_order("fetch order after finalize");
    }
    // A challenge answered again after a failure in transit may have been taken the first time,
    // and is no longer pending: the order's status tells whether validation goes on.
    if (phase_ == order_phase::answering && transient_retries_ > 0) {
        transient_retries_ = 0;
        ++next_challenge_;
        return answer_next_challenge();
    }
    return fail(errc::problem, last_request_.step, std::move(p));
}

action order_machine::on_transient_failure(
    boost::system::error_code code,
    std::optional<problem> p,
    std::optional<std::chrono::seconds> retry_after
)
{
    if (transient_retries_ >= options_.max_transient_retries) {
        return fail(
            code,
            last_request_.step + " (after " + std::to_string(transient_retries_) + " retries)",
            std::move(p)
        );
    }
    ++transient_retries_;
    std::chrono::milliseconds delay = options_.first_retry_delay;
    for (int i = 1; i < transient_retries_ && delay < options_.max_retry_delay; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, options_.max_retry_delay);
    if (retry_after) {
        delay = std::min<std::chrono::milliseconds>(*retry_after, max_retry_after);
    }
    const auto at = now_ + delay;
    if (at > deadline_) {
        return fail(
            code, last_request_.step + ": retry would pass the order's deadline", std::move(p)
        );
    }
    // A finalize that failed may have reached the CA: look at the order before sending the CSR
    // again.
    if (phase_ == order_phase::finalizing) {
        return send_at(
            at, send_request{order_url_, std::nullopt, false, "fetch order after finalize"}
        );
    }
    return send_at(at, last_request_);
}

action
order_machine::fail(boost::system::error_code code, std::string context, std::optional<problem> p)
{
    if (!failure_) {
        failure_ = failure{code, std::move(p), std::move(context)};
    }
    if (!presented_.empty()) {
        phase_ = order_phase::cleaning_up;
        return cleanup_challenges{presented_};
    }
    return finish_failure();
}

action order_machine::finish_failure()
{
    phase_ = order_phase::done;
    return finished{*failure_};
}

} // namespace certfleet::acme

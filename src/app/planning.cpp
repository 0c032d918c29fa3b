#include "app/planning.hpp"

namespace certfleet::app {

core::renewal_plan plan_for(
    const core::planning_row& row,
    const core::renewal_policy_options& options,
    std::chrono::system_clock::time_point now
)
{
    core::renewal_facts facts;
    facts.not_before = row.not_before;
    facts.not_after = row.not_after;
    facts.ari_window_start = row.ari_window_start;
    facts.ari_window_end = row.ari_window_end;
    // next_attempt_at is the last decision: a failure's backoff, a transient failure's retry,
    // the CA's Retry-After, or the plan made after the last issuance. Nothing happens before it.
    facts.ca_retry_at = row.next_attempt_at;
    const auto salt = row.not_after ? row.not_after->time_since_epoch().count() : 0;
    return core::plan_renewal(facts, options, now, core::stable_draw(row.certificate_id, salt));
}

wake next_wake(
    const core::planning_row& row,
    const core::renewal_policy_options& options,
    std::chrono::system_clock::time_point now
)
{
    const auto plan = plan_for(row, options, now);
    if (row.ari_retry_at && *row.ari_retry_at < plan.renew_at) {
        return {std::max(*row.ari_retry_at, now), wake_kind::refresh_window};
    }
    return {plan.renew_at, wake_kind::renew};
}

core::planning_row planning_row_of(
    const core::certificate_record& cert, const std::optional<core::certificate_version>& version
)
{
    core::planning_row row;
    row.certificate_id = cert.id;
    row.state = cert.state;
    row.consecutive_failures = cert.consecutive_failures;
    row.next_attempt_at = cert.next_attempt_at;
    if (version) {
        row.not_before = version->not_before;
        row.not_after = version->not_after;
        row.ari_window_start = version->ari_window_start;
        row.ari_window_end = version->ari_window_end;
        row.ari_retry_at = version->ari_retry_at;
    }
    return row;
}

} // namespace certfleet::app

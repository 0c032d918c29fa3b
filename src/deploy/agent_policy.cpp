#include "deploy/agent_policy.hpp"

#include <date/date.h>

#include <algorithm>

namespace certfleet::deploy {
namespace {

bool has_pending(const assignment_state& a)
{
    return a.staged_version && !a.staged_bundle.empty() &&
           (!a.deployed_version || *a.staged_version > *a.deployed_version);
}

// The opening that contains `now`, if any.
const opening* current_opening(const std::vector<opening>& openings, time_point now)
{
    const auto it = std::find_if(openings.begin(), openings.end(), [now](const opening& o) {
        return o.start <= now && now < o.end;
    });
    return it == openings.end() ? nullptr : &*it;
}

// The first opening that starts after `now` (next_opening_start may answer with the current
// one, which has already started).
std::optional<time_point> next_start_after(const std::vector<opening>& openings, time_point now)
{
    std::optional<time_point> next = next_opening_start(openings, now);
    if (next && *next > now) {
        return next;
    }
    next.reset();
    for (const auto& o : openings) {
        if (o.start > now && (!next || o.start < *next)) {
            next = o.start;
        }
    }
    return next;
}

apply_decision wait(std::string why)
{
    return {apply_trigger::none, std::move(why)};
}

} // namespace

const char* to_string(apply_trigger t) noexcept
{
    switch (t) {
    case apply_trigger::none:
        return "none";
    case apply_trigger::deploy_now:
        return "deploy_now";
    case apply_trigger::no_window:
        return "no_window";
    case apply_trigger::window:
        return "window";
    case apply_trigger::expiry:
        return "expiry";
    }
    return "none";
}

std::string format_utc(time_point t)
{
    return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(t));
}

std::optional<time_point> next_window_start(
    const std::vector<assignment_state>& assignments,
    const std::vector<opening>& openings,
    time_point now
)
{
    const bool pending = std::any_of(assignments.begin(), assignments.end(), has_pending);
    return pending ? next_start_after(openings, now) : std::nullopt;
}

apply_decision decide_apply(
    const assignment_state& a,
    const std::vector<opening>& openings,
    std::optional<std::int64_t> deploy_now,
    time_point now,
    std::chrono::seconds failure_retry
)
{
    if (!has_pending(a)) {
        return wait("nothing staged");
    }
    if (deploy_now && deploy_now != a.deploy_now_acted) {
        return {apply_trigger::deploy_now, "an operator asked to deploy now"};
    }
    const bool failed = a.failed_version == a.staged_version && a.failed_at;
    const bool retry_due = !failed || now >= *a.failed_at + failure_retry;
    if (openings.empty()) {
        if (!retry_due) {
            return wait(
                "the last attempt failed; next attempt at " +
                format_utc(*a.failed_at + failure_retry)
            );
        }
        return {apply_trigger::no_window, "no deployment window is set"};
    }
    const auto next = next_start_after(openings, now);
    if (const opening* open = is_open(openings, now) ? current_opening(openings, now) : nullptr) {
        if (!failed || *a.failed_at < open->start) {
            return {
                apply_trigger::window,
                "the deployment window is open until " + format_utc(open->end)};
        }
    }
    if (a.deployed_not_after && (!next || *a.deployed_not_after <= *next) && retry_due) {
        return {
            apply_trigger::expiry,
            "the certificate in service expires at " + format_utc(*a.deployed_not_after) +
                (next ? ", before the next deployment window opens at " + format_utc(*next)
                      : ", and no future deployment window is known")};
    }
    if (!next) {
        return wait("no future deployment window is known: waiting for the server to send one");
    }
    return wait(
        std::string(failed ? "the last attempt failed; " : "") +
        "waiting for the deployment window opening at " + format_utc(*next)
    );
}

} // namespace certfleet::deploy

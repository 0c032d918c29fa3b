#include "core/renewal_policy.hpp"

#include <algorithm>
#include <cstdint>

namespace certfleet::core {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;
using time_point = std::chrono::system_clock::time_point;

template <class Duration> Duration scaled(Duration d, double factor)
{
    return Duration(static_cast<typename Duration::rep>(static_cast<double>(d.count()) * factor));
}

time_point lifetime_point(const renewal_facts& f, const renewal_policy_options& o, double draw)
{
    const auto lifetime = *f.not_after - *f.not_before;
    const auto third = lifetime / 3;
    const auto jitter_bound = std::min<time_point::duration>(o.max_jitter, lifetime / 50);
    return *f.not_after - third - scaled(jitter_bound, draw);
}

} // namespace

std::string_view to_string(renewal_reason r) noexcept
{
    switch (r) {
    case renewal_reason::first_issuance:
        return "first issuance";
    case renewal_reason::ari_window:
        return "in the CA's renewal window (ARI)";
    case renewal_reason::lifetime_third:
        return "a third of the lifetime left";
    case renewal_reason::backoff:
        return "backing off after a failure";
    case renewal_reason::retry_after:
        return "the CA asked to retry later";
    }
    return "unknown";
}

renewal_plan plan_renewal(
    const renewal_facts& facts, const renewal_policy_options& options, time_point now, double draw
) noexcept
{
    draw = std::clamp(draw, 0.0, 0.999999);
    renewal_plan plan{now, renewal_reason::first_issuance, false};
    const bool has_version =
        facts.not_before && facts.not_after && *facts.not_after > *facts.not_before;
    if (has_version && facts.ari_window_start && facts.ari_window_end &&
        *facts.ari_window_end > *facts.ari_window_start) {
        const auto width = *facts.ari_window_end - *facts.ari_window_start;
        plan = {*facts.ari_window_start + scaled(width, draw), renewal_reason::ari_window, false};
        if (*facts.ari_window_end <= now) {
            plan.renew_at = now;
        }
    } else if (has_version) {
        plan = {lifetime_point(facts, options, draw), renewal_reason::lifetime_third, false};
    }
    if (facts.consecutive_failures > 0) {
        const int doublings = std::min(facts.consecutive_failures - 1, 30);
        auto backoff = std::min<seconds>(
            options.first_backoff * (std::int64_t{1} << doublings), options.max_backoff
        );
        backoff = scaled(backoff, 0.5 + draw / 2);
        const auto after = facts.last_failure_at.value_or(now) + backoff;
        if (after > plan.renew_at) {
            plan.renew_at = after;
            plan.reason = renewal_reason::backoff;
        }
    }
    if (facts.ca_retry_at && *facts.ca_retry_at > plan.renew_at) {
        plan.renew_at = *facts.ca_retry_at;
        plan.reason = renewal_reason::retry_after;
    }
    plan.renew_at = std::max(plan.renew_at, now); // overdue is due now
    plan.alert = has_version && plan.renew_at >= *facts.not_after;
    return plan;
}

double stable_draw(std::int64_t certificate_id, std::int64_t salt) noexcept
{
    // splitmix64: cheap, well spread, and the same on every platform.
    auto x = static_cast<std::uint64_t>(certificate_id) * 0x9e3779b97f4a7c15ULL ^
             static_cast<std::uint64_t>(salt);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return static_cast<double>(x >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

} // namespace certfleet::core

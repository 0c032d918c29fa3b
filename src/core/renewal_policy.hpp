#pragma once
// When to renew a certificate (DESIGN section 4), as a pure function of what is known about it,
// the time and a random draw: no clock, no store.
//
// - No version yet: now.
// - The CA offers ARI (RFC 9773 4.2): a random point in its suggested window; once the window's
//   end has passed, now.
// - Otherwise: when a third of the lifetime remains, moved earlier by up to `max_jitter` (and
//   never more than a fiftieth of the lifetime) so that certificates issued together do not all
//   renew in the same minute.
// - After a failure: exponential backoff from the failure, first_backoff × 2^(failures-1),
//   capped at max_backoff, with the draw spreading it over [half, whole]; never before the CA's
//   own Retry-After.
// - Never before `now`: an overdue renewal is due now.
// - `alert` when that time is at or after the expiry: the certificate would expire before the
//   next attempt.

#include <chrono>
#include <optional>
#include <string>

namespace certfleet::core {

struct renewal_facts
{
    using time_point = std::chrono::system_clock::time_point;
    std::optional<time_point> not_before; // of the version in service
    std::optional<time_point> not_after;
    std::optional<time_point> ari_window_start;
    std::optional<time_point> ari_window_end;
    int consecutive_failures = 0;
    std::optional<time_point> last_failure_at;
    std::optional<time_point> ca_retry_at; // the CA's Retry-After, as an instant
};

struct renewal_policy_options
{
    std::chrono::seconds max_jitter{3600};
    std::chrono::seconds first_backoff{300};
    std::chrono::seconds max_backoff{4 * 3600};
};

enum class renewal_reason
{
    first_issuance,
    ari_window,
    lifetime_third,
    backoff,     // waiting after a failure
    retry_after, // waiting for the CA's Retry-After
};

[[nodiscard]] std::string_view to_string(renewal_reason r) noexcept;

struct renewal_plan
{
    std::chrono::system_clock::time_point renew_at;
    renewal_reason reason = renewal_reason::first_issuance;
    bool alert = false;
};

// `draw` is uniform in [0, 1); values outside are clamped.
[[nodiscard]] renewal_plan plan_renewal(
    const renewal_facts& facts,
    const renewal_policy_options& options,
    std::chrono::system_clock::time_point now,
    double draw
) noexcept;

// A draw in [0, 1) that is stable for one certificate version (a hash of both), so that a
// restart does not move every renewal time.
[[nodiscard]] double stable_draw(std::int64_t certificate_id, std::int64_t salt) noexcept;

} // namespace certfleet::core

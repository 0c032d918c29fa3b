#pragma once
// The renewal plan of a stored certificate: core::plan_renewal fed from the store's rows, with a
// random draw that is stable per certificate version (a restart does not move renewal times).

#include "core/renewal_policy.hpp"
#include "core/store.hpp"

namespace certfleet::app {

// The plan for a certificate as stored: the renewal policy, and never before the certificate's
// next_attempt_at (the last decision: a failure's backoff, a retry, the CA's Retry-After).
[[nodiscard]] core::renewal_plan plan_for(
    const core::planning_row& row,
    const core::renewal_policy_options& options,
    std::chrono::system_clock::time_point now
);

// What the scheduler does next for a certificate, and when: renew it, or first ask the CA for
// its renewal window again (the Retry-After of its last ARI answer, RFC 9773 4.3) when that
// comes before the renewal.
enum class wake_kind
{
    renew,
    refresh_window,
};
struct wake
{
    std::chrono::system_clock::time_point at;
    wake_kind kind = wake_kind::renew;
};
[[nodiscard]] wake next_wake(
    const core::planning_row& row,
    const core::renewal_policy_options& options,
    std::chrono::system_clock::time_point now
);

// The same row, built from a certificate and its newest version.
[[nodiscard]] core::planning_row planning_row_of(
    const core::certificate_record& cert, const std::optional<core::certificate_version>& version
);

} // namespace certfleet::app

#pragma once
// When the agent applies a staged bundle (DESIGN section 6): a pure function of the assignment's
// state, the openings last received, the agent's "deploy now" counter and the time.
//
// A staged version newer than the deployed one is applied
//   - at once when an operator asked ("deploy now": the counter differs from the one acted on);
//   - at once when no window is set (the server sent no openings);
//   - while a window is open;
//   - at once when the certificate in service expires before the next window opens, or when no
//     future opening is known (the server has been away longer than the openings it sent).
// A version whose apply failed is not retried in a hot loop: with a window, at the next opening
// (one that started after the failure); otherwise after `failure_retry`. "Deploy now" always
// tries again.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deploy/agent_state.hpp"
#include "deploy/window.hpp"

namespace certfleet::deploy {

enum class apply_trigger
{
    none, // wait: `why` says until when
    deploy_now,
    no_window,
    window,
    expiry,
};

[[nodiscard]] const char* to_string(apply_trigger t) noexcept;

struct apply_decision
{
    apply_trigger trigger = apply_trigger::none;
    std::string why; // for the log and the report: "the certificate in service expires ..."
};

[[nodiscard]] apply_decision decide_apply(
    const assignment_state& assignment,
    const std::vector<opening>& openings,
    std::optional<std::int64_t> deploy_now,
    time_point now,
    std::chrono::seconds failure_retry
);

// The start of the next opening after `now` when a staged bundle waits for one (nullopt when
// nothing is pending, no window is set or none is known). The agent holds a poll no longer than
// that: a long-poll must not delay the apply past the opening by up to its whole length.
[[nodiscard]] std::optional<time_point> next_window_start(
    const std::vector<assignment_state>& assignments,
    const std::vector<opening>& openings,
    time_point now
);

// RFC 3339 UTC to the second: "2026-03-01T02:00:00Z".
[[nodiscard]] std::string format_utc(time_point t);

} // namespace certfleet::deploy

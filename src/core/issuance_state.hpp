#pragma once
// The issuance states of DESIGN section 4, as they are stored and resumed.
//
// An order (one run for one certificate) goes
//   ordering → authorizing → publishing → answering → validating → finalizing → downloading
//   → issued
// and may fail from any state. `issued` and `failed` are final; every other state is resumed
// after a restart: with the order URL when the CA gave one, with a new order otherwise.
//
// A certificate is `pending` until its first version, `issuing` while an order runs, `valid`
// when its newest version is in service, `failed` after a failed run (it is retried at its
// next attempt time), and `revoked` when an operator revoked it (never renewed again).

#include <optional>
#include <string_view>

namespace certfleet::core {

enum class order_state
{
    ordering,    // newOrder sent or about to be; no order URL yet
    authorizing, // the order URL and its authorizations are known
    publishing,  // TXT values placed in our zone (challenge records stored first)
    answering,   // challenges POSTed
    validating,  // polling the order while the CA validates
    finalizing,  // the key is stored (sealed) before the CSR leaves
    downloading, // the order is valid: fetch the chain
    issued,      // final: the version is stored
    failed,      // final: the CA refused or the run gave up; the certificate retries later
};

enum class certificate_state
{
    pending,
    issuing,
    valid,
    failed,
    revoked,
};

[[nodiscard]] std::string_view to_string(order_state s) noexcept;
[[nodiscard]] std::optional<order_state> order_state_from_string(std::string_view s) noexcept;
[[nodiscard]] std::string_view to_string(certificate_state s) noexcept;
[[nodiscard]] std::optional<certificate_state> certificate_state_from_string(std::string_view s
) noexcept;

[[nodiscard]] constexpr bool is_final(order_state s) noexcept
{
    return s == order_state::issued || s == order_state::failed;
}

// Whether a stored order may move from `from` to `to`: forward along the path, to failed from
// any state that is not final, or to the same state (a repeated write after a resume). The
// machine is driven by what the CA reports, so skipping ahead (a resumed order the CA already
// validated) is allowed; going back or leaving a final state is not.
[[nodiscard]] bool may_advance(order_state from, order_state to) noexcept;

} // namespace certfleet::core

#pragma once
// The renewal sweep shared by `renew` and `cert renew`: choose the certificates (due now, all,
// by name or by id), then run them — through a running `certfleet serve` on the same store
// (over its control socket: it holds the DNS port) or, when none runs, here, serving the
// challenge zone for the sweep's duration.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/issuer.hpp"
#include "app/settings.hpp"
#include "app/state.hpp"

namespace certfleet::app {

struct sweep_selection
{
    bool all = false;               // every certificate that is not revoked
    std::vector<std::string> names; // certificates holding any of these names
    std::vector<core::row_id> ids;  // these certificates, whatever their plan
};

struct planned_renewal
{
    core::row_id id = 0;
    std::vector<std::string> names;
    std::chrono::system_clock::time_point renew_at;
    std::string reason; // why now: "first issuance", "in the CA's renewal window (ARI)", ...
    bool alert = false;
};

// The certificates to renew now. Without `all`, names or ids: those whose plan is due.
[[nodiscard]] std::vector<planned_renewal> select_renewals(
    core::store& store,
    const server_settings& settings,
    const sweep_selection& selection,
    std::chrono::system_clock::time_point now
);

struct sweep_options
{
    // A transient failure is retried within the sweep while its retry falls before this.
    std::chrono::seconds deadline{900};
};

enum class sweep_mode
{
    server, // handed to a running `certfleet serve`
    local,  // run here
};

// Runs the renewals; `on_result` is called as each finishes. Errors: a message on stderr and
// nullopt (the DNS port taken by another program, ...).
std::optional<sweep_mode> run_renewals(
    const server_settings& settings,
    state& opened,
    const std::vector<core::row_id>& ids,
    const sweep_options& options,
    const std::function<void(const run_result&)>& on_result
);

} // namespace certfleet::app

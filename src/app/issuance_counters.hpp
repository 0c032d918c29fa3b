#pragma once
// What the issuer counts as it works, for GET /metrics (app/metrics.hpp). Label values come from
// fixed sets (CA names from the configuration, run_outcome words, run_result::reason,
// acme::request_report), so the series stay few. Thread-safe (core::counter_family), though
// the issuer adds to it from its one executor.

#include "core/metrics.hpp"

namespace certfleet::app {

struct issuance_counters
{
    // Issuance runs (first issuances and renewals) that ended, by CA and outcome.
    core::counter_family runs{"ca", "outcome"};
    // Runs that failed (failed, retrying, preflight_failed), by CA and reason.
    core::counter_family failures{"ca", "reason"};
    // HTTP requests to the CAs' ACME servers, by CA, endpoint and outcome.
    core::counter_family acme_requests{"ca", "endpoint", "outcome"};
};

} // namespace certfleet::app

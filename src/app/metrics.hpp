#pragma once
// GET /metrics: certfleet's metrics in the Prometheus text format (app/exposition.hpp). Events
// are counted as they happen (issuance_counters; the DNS server's per-thread counters); the rest
// is read at scrape time: the certificates from the store, the clock. The README's "Metrics"
// section lists every metric for operators.
//
// Threads: render_metrics reads the store, so call it where the store is used (the io_context
// that runs the issuer); the DNS counters and issuance_counters may be read from any thread.
// A store that cannot be read leaves the certificate metrics out of that scrape (logged).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "app/exposition.hpp"
#include "app/issuance_counters.hpp"
#include "core/store.hpp"
#include "dns/server.hpp"

namespace certfleet::dns {
struct acmedns_stats;
} // namespace certfleet::dns

namespace certfleet::app {

// A part wired in at start-up that adds families at scrape time, appending them to `out` (the
// acme-dns API's counts, acmedns_metrics()).
using metrics_collector = std::function<void(std::vector<metric_family>& out)>;

struct metrics_sources
{
    core::store* store = nullptr;                // the certificate metrics; none when null
    const issuance_counters* issuance = nullptr; // renewals, failures, ACME requests
    // The DNS server's counters (dns::server::stats()); none when empty.
    std::function<dns::server_stats()> dns_stats;
    std::chrono::system_clock::time_point started{}; // when the server started; none when zero
    std::vector<metrics_collector> collectors;
};

// Every family, unordered (render_exposition orders them).
[[nodiscard]] std::vector<metric_family>
collect_metrics(const metrics_sources& sources, std::chrono::system_clock::time_point now);

// The body of GET /metrics (Content-Type: exposition_content_type).
[[nodiscard]] std::string
render_metrics(const metrics_sources& sources, std::chrono::system_clock::time_point now);

// A counter family from every series of `counts`, labelled by its label names.
[[nodiscard]] metric_family
counter_family_of(std::string name, std::string help, const core::counter_family& counts);

// A counter family with one label, from (label value, count) pairs: what a struct of plain
// counters becomes, e.g. counters_by("certfleet_acmedns_updates_total", "...", "result",
// {{"ok", stats.ok}, {"forbidden", stats.forbidden}}).
[[nodiscard]] metric_family counters_by(
    std::string name,
    std::string help,
    const std::string& label,
    const std::vector<std::pair<std::string, std::uint64_t>>& counts
);

// The acme-dns API's counts: certfleet_acmedns_updates_total{result},
// certfleet_acmedns_registrations_total{result} (result: ok, bad_request, forbidden, failed) and
// certfleet_acmedns_values_expired_total. `stats` must outlive the collector.
[[nodiscard]] metrics_collector acmedns_metrics(const dns::acmedns_stats& stats);

} // namespace certfleet::app

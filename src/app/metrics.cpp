#include "app/metrics.hpp"

#include <array>

#include "app/log.hpp"
#include "dns/acmedns_api.hpp"

#ifndef CERTFLEET_VERSION
#define CERTFLEET_VERSION "unknown"
#endif

namespace certfleet::app {
namespace {

using clock = std::chrono::system_clock;
using labels = std::vector<std::pair<std::string, std::string>>;

double seconds_since_epoch(clock::time_point t)
{
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

metric_family gauge(std::string name, std::string help, std::vector<metric_sample> samples)
{
    return metric_family{std::move(name), std::move(help), metric_type::gauge, std::move(samples)};
}

metric_family counter(std::string name, std::string help, std::uint64_t value)
{
    return metric_family{
        std::move(name), std::move(help), metric_type::counter, {{{}, static_cast<double>(value)}}};
}

void add_process(std::vector<metric_family>& out, const metrics_sources& sources)
{
    out.push_back(gauge(
        "certfleet_build_info", "The certfleet version serving, as a label; always 1.",
        {{labels{{"version", CERTFLEET_VERSION}}, 1}}
    ));
    if (sources.started != clock::time_point{}) {
        out.push_back(gauge(
            "certfleet_start_time_seconds",
            "When this certfleet server started, in seconds since the Unix epoch.",
            {{{}, seconds_since_epoch(sources.started)}}
        ));
    }
}

void add_certificates(std::vector<metric_family>& out, core::store& store, clock::time_point now)
{
    auto summary = store.summarize_certificates();
    if (!summary) {
        log(level::warn,
            "metrics: cannot read the certificates from the store: " + summary.error().message());
        return;
    }
    constexpr std::array states{
        core::certificate_state::pending, core::certificate_state::issuing,
        core::certificate_state::valid, core::certificate_state::failed,
        core::certificate_state::revoked};
    std::vector<metric_sample> by_state;
    for (const auto state : states) {
        const auto it = summary->by_state.find(state);
        const auto count = it == summary->by_state.end() ? 0 : it->second;
        by_state.push_back(
            {labels{{"state", std::string(core::to_string(state))}}, static_cast<double>(count)}
        );
    }
    out.push_back(
        gauge("certfleet_certificates", "Managed certificates, by state.", std::move(by_state))
    );
    std::vector<metric_sample> earliest;
    if (summary->earliest_not_after) {
        earliest.push_back(
            {{}, std::chrono::duration<double>(*summary->earliest_not_after - now).count()}
        );
    }
    out.push_back(gauge(
        "certfleet_certificate_earliest_expiry_seconds",
        "Seconds until the earliest notAfter among the newest versions of the certificates that "
        "are not revoked; negative once it has passed; absent until one is issued.",
        std::move(earliest)
    ));
    out.push_back(gauge(
        "certfleet_certificates_alerting",
        "Certificates (not revoked) that will expire before their next renewal attempt.",
        {{{}, static_cast<double>(summary->alerts)}}
    ));
}

void add_issuance(std::vector<metric_family>& out, const issuance_counters& counts)
{
    out.push_back(counter_family_of(
        "certfleet_renewals_total",
        "Issuance runs (first issuances and renewals) that ended, by CA and outcome.", counts.runs
    ));
    out.push_back(counter_family_of(
        "certfleet_renewal_failures_total",
        "Issuance runs that failed (outcome failed, retrying or preflight_failed), by CA and "
        "reason: the ACME problem type, our error, or the preflight check.",
        counts.failures
    ));
    out.push_back(counter_family_of(
        "certfleet_acme_requests_total",
        "HTTP requests to the CAs' ACME servers, by CA, endpoint and outcome (status class, or "
        "the problem type of a 4xx answer).",
        counts.acme_requests
    ));
}

void add_dns(std::vector<metric_family>& out, const dns::server_stats& s)
{
    out.push_back(counters_by(
        "certfleet_dns_queries_total", "DNS messages received, by transport.", "transport",
        {{"udp", s.udp_queries}, {"tcp", s.tcp_queries}}
    ));
    std::vector<std::pair<std::string, std::uint64_t>> by_rcode;
    for (std::size_t slot = 0; slot < dns::rcode_slots; ++slot) {
        by_rcode.emplace_back(std::string(dns::rcode_slot_name(slot)), s.responses[slot]);
    }
    out.push_back(counters_by(
        "certfleet_dns_responses_total",
        "DNS responses written, by RCODE (before UDP rate limiting drops or truncates any).",
        "rcode", by_rcode
    ));
    out.push_back(counter(
        "certfleet_dns_dropped_total",
        "DNS messages dropped without an answer: malformed, too large, or not sent.", s.dropped
    ));
    out.push_back(counters_by(
        "certfleet_dns_rate_limited_total",
        "UDP responses over the rate limit, by action: dropped, or truncated (a TC=1 slip).",
        "action", {{"dropped", s.rate_limited_dropped}, {"truncated", s.rate_limited_truncated}}
    ));
    out.push_back(counters_by(
        "certfleet_dns_tcp_connections_closed_total",
        "TCP connections closed by the server, by reason: refused over the limits, evicted "
        "idle to make room, or expired at their maximum lifetime.",
        "reason",
        {{"refused", s.tcp_refused_connections},
         {"evicted", s.tcp_evicted_connections},
         {"expired", s.tcp_expired_connections}}
    ));
    out.push_back(counter(
        "certfleet_dns_accept_errors_total",
        "TCP accept() failures (out of descriptors, ...), each followed by a pause.",
        s.accept_errors
    ));
}

} // namespace

metric_family
counter_family_of(std::string name, std::string help, const core::counter_family& counts)
{
    metric_family f{std::move(name), std::move(help), metric_type::counter, {}};
    const auto& names = counts.label_names();
    for (const auto& series : counts.snapshot()) {
        metric_sample s;
        for (std::size_t i = 0; i < names.size(); ++i) {
            s.labels.emplace_back(names[i], series.label_values[i]);
        }
        s.value = static_cast<double>(series.count);
        f.samples.push_back(std::move(s));
    }
    return f;
}

metric_family counters_by(
    std::string name,
    std::string help,
    const std::string& label,
    const std::vector<std::pair<std::string, std::uint64_t>>& counts
)
{
    metric_family f{std::move(name), std::move(help), metric_type::counter, {}};
    for (const auto& [value, count] : counts) {
        f.samples.push_back({labels{{label, value}}, static_cast<double>(count)});
    }
    return f;
}

metrics_collector acmedns_metrics(const dns::acmedns_stats& stats)
{
    return [&stats](std::vector<metric_family>& out) {
        out.push_back(counters_by(
            "certfleet_acmedns_updates_total",
            "acme-dns API updates (POST /update), by result: ok, bad_request, forbidden, or failed "
            "on our side.",
            "result",
            {{"ok", stats.updates_ok.load()},
             {"bad_request", stats.updates_bad_request.load()},
             {"forbidden", stats.updates_forbidden.load()},
             {"failed", stats.updates_failed.load()}}
        ));
        out.push_back(counters_by(
            "certfleet_acmedns_registrations_total",
            "acme-dns API registrations (POST /register), by result.", "result",
            {{"ok", stats.registrations_ok.load()},
             {"bad_request", stats.registrations_bad_request.load()},
             {"forbidden", stats.registrations_forbidden.load()},
             {"failed", stats.registrations_failed.load()}}
        ));
        out.push_back(counter(
            "certfleet_acmedns_values_expired_total",
            "acme-dns TXT values removed from the zone at the end of their lifetime.",
            stats.values_expired.load()
        ));
    };
}

std::vector<metric_family> collect_metrics(const metrics_sources& sources, clock::time_point now)
{
    std::vector<metric_family> out;
    add_process(out, sources);
    if (sources.store != nullptr) {
        add_certificates(out, *sources.store, now);
    }
    if (sources.issuance != nullptr) {
        add_issuance(out, *sources.issuance);
    }
    if (sources.dns_stats) {
        add_dns(out, sources.dns_stats());
    }
    for (const auto& collect : sources.collectors) {
        collect(out);
    }
    return out;
}

std::string render_metrics(const metrics_sources& sources, clock::time_point now)
{
    return render_exposition(collect_metrics(sources, now));
}

} // namespace certfleet::app

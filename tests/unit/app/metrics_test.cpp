#include "app/metrics.hpp"

#include <doctest/doctest.h>

#include "core/sqlite_store.hpp"
#include "dns/acmedns_api.hpp"
#include "support/exposition_reader.hpp"
#include "support/store_fixture.hpp"

namespace certfleet::app {
namespace {

using namespace std::chrono_literals;
using test::exposition_value;
const core::time_point t0 = core::time_point(std::chrono::seconds(1'800'000'000));

} // namespace

TEST_SUITE("app")
{
    TEST_CASE("metrics: certificates by state (every state), the earliest expiry, alerts")
    {
        test::temp_database tmp;
        auto store = core::open_sqlite_store(tmp.file());
        using state = core::certificate_state;
        test::store_certificate(*store, {{"a.example.com"}, state::valid, {t0 + 60 * 24h}}, t0);
        test::store_certificate(
            *store, {{"b.example.com"}, state::valid, {t0 - 24h, t0 + 12 * 24h + 30s}}, t0
        );
        test::store_certificate(
            *store, {{"c.example.com"}, state::failed, {t0 + 40 * 24h}, "default", true}, t0
        );
        test::store_certificate(*store, {{"d.example.com"}, state::revoked, {t0 + 1h}}, t0);
        metrics_sources sources;
        sources.store = store.get();

        const auto text = render_metrics(sources, t0);
        CHECK(exposition_value(text, R"(certfleet_certificates{state="valid"})") == 2);
        CHECK(exposition_value(text, R"(certfleet_certificates{state="failed"})") == 1);
        CHECK(exposition_value(text, R"(certfleet_certificates{state="revoked"})") == 1);
        CHECK(exposition_value(text, R"(certfleet_certificates{state="pending"})") == 0);
        CHECK(exposition_value(text, R"(certfleet_certificates{state="issuing"})") == 0);
        CHECK(
            exposition_value(text, "certfleet_certificate_earliest_expiry_seconds") ==
            12 * 24 * 3600 + 30
        );
        CHECK(exposition_value(text, "certfleet_certificates_alerting") == 1);
        CHECK(text.find("\ncertfleet_build_info{version=\"") != std::string::npos);
        // Past the expiry, the gauge goes negative rather than away.
        CHECK(
            exposition_value(
                render_metrics(sources, t0 + 13 * 24h),
                "certfleet_certificate_earliest_expiry_seconds"
            ) == -(24 * 3600 - 30)
        );
    }

    TEST_CASE("metrics: no issued certificate, no expiry sample (absent, not NaN)")
    {
        test::temp_database tmp;
        auto store = core::open_sqlite_store(tmp.file());
        test::store_certificate(
            *store, {{"a.example.com"}, core::certificate_state::pending, {}}, t0
        );
        metrics_sources sources;
        sources.store = store.get();
        const auto text = render_metrics(sources, t0);
        CHECK(exposition_value(text, R"(certfleet_certificates{state="pending"})") == 1);
        CHECK(text.find("certfleet_certificate_earliest_expiry_seconds") == std::string::npos);
        CHECK(text.find("NaN") == std::string::npos);
    }

    TEST_CASE("metrics: issuance counters, the start time and the acme-dns API counts")
    {
        issuance_counters counts;
        counts.runs.touch({"default", "failed"});
        counts.runs.add({"default", "issued"}, 3);
        counts.failures.add({"default", "preflight_delegation"});
        counts.acme_requests.add({"default", "newOrder", "2xx"}, 4);
        counts.acme_requests.add({"default", "newAccount", "badNonce"});
        metrics_sources sources;
        sources.issuance = &counts;
        sources.started = t0 - 1h;
        dns::acmedns_stats acmedns;
        acmedns.updates_ok = 5;
        acmedns.updates_forbidden = 2;
        acmedns.values_expired = 1;
        sources.collectors.push_back(acmedns_metrics(acmedns));

        const auto text = render_metrics(sources, t0);
        CHECK(
            exposition_value(text, R"(certfleet_renewals_total{ca="default",outcome="issued"})") ==
            3
        );
        CHECK(
            exposition_value(text, R"(certfleet_renewals_total{ca="default",outcome="failed"})") ==
            0
        );
        CHECK(
            exposition_value(
                text,
                R"(certfleet_renewal_failures_total{ca="default",reason="preflight_delegation"})"
            ) == 1
        );
        CHECK(
            exposition_value(
                text,
                R"(certfleet_acme_requests_total{ca="default",endpoint="newOrder",outcome="2xx"})"
            ) == 4
        );
        CHECK(
            exposition_value(
                text,
                R"(certfleet_acme_requests_total{ca="default",endpoint="newAccount",outcome="badNonce"})"
            ) == 1
        );
        CHECK(
            exposition_value(text, R"(certfleet_acmedns_updates_total{result="forbidden"})") == 2
        );
        CHECK(exposition_value(text, R"(certfleet_acmedns_updates_total{result="ok"})") == 5);
        CHECK(exposition_value(text, R"(certfleet_acmedns_registrations_total{result="ok"})") == 0);
        CHECK(exposition_value(text, "certfleet_acmedns_values_expired_total") == 1);
        CHECK(exposition_value(text, "certfleet_start_time_seconds") == 1'800'000'000 - 3600);
        CHECK(text.find("# TYPE certfleet_renewals_total counter\n") != std::string::npos);
        // Neither a store nor a DNS server: their families are left out.
        CHECK(text.find("certfleet_certificates") == std::string::npos);
        CHECK(text.find("certfleet_dns_") == std::string::npos);
    }
}

} // namespace certfleet::app

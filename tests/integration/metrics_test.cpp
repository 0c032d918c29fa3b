// GET /metrics as Prometheus reads it: the exposition of a real store, of the DNS authority
// under queries over UDP and TCP on two threads, and of the issuance backend after runs at
// Pebble. Each is checked by `promtool check metrics` (parsed, no lint complaint) and read back
// for its values.
#include "app/metrics.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>

#include "app/runtime.hpp"
#include "core/sqlite_store.hpp"
#include "support/backend_rig.hpp"
#include "support/exposition_reader.hpp"
#include "support/rig_authority.hpp"
#include "support/rig_net.hpp"
#include "support/rig_promtool.hpp"
#include "support/store_fixture.hpp"

namespace certfleet::test {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::system_clock;
using state = core::certificate_state;

void check_with_promtool(const temp_dir& dir, const std::string& exposition)
{
    const auto r = promtool_check_metrics(dir, exposition);
    INFO("exposition:\n", exposition);
    INFO("promtool: ", r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
}

double value_of(const std::string& exposition, const std::string& series)
{
    const auto v = exposition_value(exposition, series);
    INFO(series, " in:\n", exposition);
    REQUIRE(v.has_value());
    return v.value();
}

std::string rcode_series(std::string_view rcode)
{
    return "certfleet_dns_responses_total{rcode=\"" + std::string(rcode) + "\"}";
}

// The certificates go through the scheduler one after the other, as `cert renew` would have
// them; then the runtime stops.
boost::asio::awaitable<void> run_all(
    app::runtime* rt,
    std::vector<core::row_id> ids,
    std::vector<app::run_result>* results,
    boost::asio::io_context* io
)
{
    for (const auto id : ids) {
        results->push_back(co_await rt->scheduler().run_now(id));
    }
    rt->stop();
    io->stop();
}

} // namespace

TEST_SUITE("integration")
{
    TEST_CASE("metrics: a store with certificates and versions, as promtool reads it")
    {
        temp_dir dir{"certfleet-metrics"};
        temp_database db;
        auto store = core::open_sqlite_store(db.file());
        const auto now = std::chrono::floor<std::chrono::seconds>(clock::now());
        store_certificate(
            *store, {{"a.example.com"}, state::valid, {now - 2h, now + 60 * 24h}}, now
        );
        store_certificate(
            *store, {{"b.example.com", "*.b.example.com"}, state::valid, {now + 9 * 24h}}, now
        );
        store_certificate(
            *store, {{"c.example.com"}, state::failed, {now + 30 * 24h}, "backup", true}, now
        );
        store_certificate(*store, {{"d.example.com"}, state::revoked, {now + 1h}}, now);
        store_certificate(*store, {{"e.example.com"}, state::pending, {}}, now);

        app::issuance_counters counts;
        counts.runs.add({"default", "issued"}, 2);
        counts.runs.add({"backup", "failed"});
        counts.failures.add({"backup", "rateLimited"});
        counts.acme_requests.add({"default", "newOrder", "2xx"}, 2);
        app::metrics_sources sources;
        sources.store = store.get();
        sources.issuance = &counts;
        sources.started = now - 3h;
        // Label values with every character the format escapes.
        sources.collectors.push_back([](std::vector<app::metric_family>& out) {
            out.push_back(app::counters_by(
                "certfleet_escaped_labels_total", "Label values the format escapes.", "value",
                {{"ok", 3}, {"odd \"name\"\\with\nnewline", 1}}
            ));
        });

        const auto text = app::render_metrics(sources, clock::now());
        check_with_promtool(dir, text);
        CHECK(value_of(text, R"(certfleet_certificates{state="valid"})") == 2);
        CHECK(value_of(text, R"(certfleet_certificates{state="failed"})") == 1);
        CHECK(value_of(text, R"(certfleet_certificates{state="revoked"})") == 1);
        CHECK(value_of(text, R"(certfleet_certificates{state="pending"})") == 1);
        CHECK(value_of(text, R"(certfleet_certificates{state="issuing"})") == 0);
        CHECK(value_of(text, "certfleet_certificates_alerting") == 1);
        // b's nine days, the revoked d aside; the render came a moment after `now`.
        const double expiry = value_of(text, "certfleet_certificate_earliest_expiry_seconds");
        CHECK(std::abs(expiry - 9 * 24 * 3600) < 5);
        CHECK(value_of(text, R"(certfleet_renewals_total{ca="default",outcome="issued"})") == 2);
        CHECK(
            value_of(
                text, R"(certfleet_renewal_failures_total{ca="backup",reason="rateLimited"})"
            ) == 1
        );
        CHECK(
            value_of(
                text, R"(certfleet_escaped_labels_total{value="odd \"name\"\\with\nnewline"})"
            ) == 1
        );
    }

    TEST_CASE("metrics: DNS responses by RCODE over UDP and TCP, summed over the server's threads")
    {
        temp_dir dir{"certfleet-metrics"};
        dns::server_options options;
        options.threads = 2;
        options.rate_limit.enabled = false; // the errors share one identity, over its rate here
        in_process_authority authority({make_zone({.apex = "acme.metrics.test"})}, options);
        const auto edns = std::optional<std::uint16_t>{1232};
        const std::vector<std::pair<query_spec, std::string_view>> per_client{
            {{.name = "acme.metrics.test", .type = dns::rr_type::soa}, "NOERROR"},
            {{.name = "ns1.acme.metrics.test", .type = dns::rr_type::a, .edns_payload = edns},
             "NOERROR"},
            {{.name = "nothing.acme.metrics.test", .type = dns::rr_type::a}, "NXDOMAIN"},
            {{.name = "www.example.com", .type = dns::rr_type::a}, "REFUSED"},
            {{.name = "acme.metrics.test", .type = dns::rr_type::soa, .flags = 5 << 11}, "NOTIMP"},
            {{.name = "acme.metrics.test",
              .type = dns::rr_type::soa,
              .edns_payload = edns,
              .edns_version = 1},
             "BADVERS"},
        };
        // Eight sources: the kernel spreads them over both threads' sockets (SO_REUSEPORT).
        constexpr int udp_clients = 8;
        for (int c = 0; c < udp_clients; ++c) {
            udp_client client(authority.port());
            for (const auto& [query, rcode] : per_client) {
                INFO(query.name, " ", rcode);
                REQUIRE(client.exchange(make_query(query), 2s).has_value());
            }
            auto malformed = make_query({.name = "acme.metrics.test", .type = dns::rr_type::soa});
            malformed.push_back(0); // trailing garbage: FORMERR
            REQUIRE(client.exchange(malformed, 2s).has_value());
        }
        tcp_client tcp(authority.port());
        for (int i = 0; i < 3; ++i) {
            tcp.send_message(make_query({.name = "acme.metrics.test", .type = dns::rr_type::soa}));
            REQUIRE(tcp.receive_message(2s).has_value());
        }
        tcp.send_message(make_query({.name = "no.acme.metrics.test", .type = dns::rr_type::txt}));
        REQUIRE(tcp.receive_message(2s).has_value());

        app::metrics_sources sources;
        sources.dns_stats = [&authority] { return authority.stats(); };
        const auto text = app::render_metrics(sources, clock::now());
        check_with_promtool(dir, text);
        CHECK(value_of(text, rcode_series("NOERROR")) == 2 * udp_clients + 3);
        CHECK(value_of(text, rcode_series("NXDOMAIN")) == udp_clients + 1);
        CHECK(value_of(text, rcode_series("REFUSED")) == udp_clients);
        CHECK(value_of(text, rcode_series("NOTIMP")) == udp_clients);
        CHECK(value_of(text, rcode_series("BADVERS")) == udp_clients);
        CHECK(value_of(text, rcode_series("FORMERR")) == udp_clients);
        CHECK(value_of(text, rcode_series("SERVFAIL")) == 0);
        CHECK(value_of(text, rcode_series("other")) == 0);
        CHECK(value_of(text, R"(certfleet_dns_queries_total{transport="udp"})") == 7 * udp_clients);
        CHECK(value_of(text, R"(certfleet_dns_queries_total{transport="tcp"})") == 4);
        CHECK(value_of(text, "certfleet_dns_dropped_total") == 0);
    }

    TEST_CASE("metrics: runs at Pebble move the renewal, failure and ACME request counters")
    {
        backend_rig rig(preflight_cases());
        const auto settings = app::load_settings(rig.config().string());
        auto opened = app::open_state(settings);
        std::vector<core::row_id> ids;
        for (const auto* name : {"good", "missing", "wrong", "caa"}) {
            core::certificate_spec spec;
            spec.names = {std::string(name) + ".customer.test"};
            ids.push_back(opened.store->add_certificate(spec, clock::now()).value());
        }

        boost::asio::io_context io(1);
        app::runtime rt(io, settings, opened);
        REQUIRE(rt.start_dns());
        std::vector<app::run_result> results;
        boost::asio::co_spawn(io, run_all(&rt, ids, &results, &io), boost::asio::detached);
        io.run_for(180s);
        REQUIRE(results.size() == 4);
        CHECK(results[0].outcome == app::run_outcome::issued);
        CHECK(results[1].reason == "preflight_delegation");
        CHECK(results[2].reason == "preflight_delegation");
        CHECK(results[3].reason == "preflight_caa");

        const auto now = clock::now();
        const auto text = app::render_metrics(rt.metrics(), now);
        check_with_promtool(rig.dir(), text);
        CHECK(value_of(text, R"(certfleet_renewals_total{ca="default",outcome="issued"})") == 1);
        CHECK(
            value_of(
                text, R"(certfleet_renewals_total{ca="default",outcome="preflight_failed"})"
            ) == 3
        );
        CHECK(value_of(text, R"(certfleet_renewals_total{ca="default",outcome="retrying"})") == 0);
        CHECK(
            value_of(
                text,
                R"(certfleet_renewal_failures_total{ca="default",reason="preflight_delegation"})"
            ) == 2
        );
        CHECK(
            value_of(
                text, R"(certfleet_renewal_failures_total{ca="default",reason="preflight_caa"})"
            ) == 1
        );
        for (const auto* endpoint :
             {"directory", "newAccount", "newOrder", "authz", "challenge", "finalize",
              "certificate"}) {
            const auto series =
                std::string(R"(certfleet_acme_requests_total{ca="default",endpoint=")") + endpoint +
                R"(",outcome="2xx"})";
            CHECK(value_of(text, series) >= 1);
        }
        CHECK(value_of(text, R"(certfleet_certificates{state="valid"})") == 1);
        CHECK(value_of(text, R"(certfleet_certificates{state="failed"})") == 3);
        const auto issued = opened.store->latest_version(ids[0]).value().value();
        const auto expected = std::chrono::duration<double>(issued.not_after - now).count();
        CHECK(
            std::abs(value_of(text, "certfleet_certificate_earliest_expiry_seconds") - expected) < 2
        );
        // Pebble's validation came through unbound to our authority, and so did the preflight.
        CHECK(value_of(text, rcode_series("NOERROR")) >= 1);
    }

    TEST_CASE("metrics: GET /metrics of certfleet serve, after it issued and acme-dns clients "
              "updated, as promtool reads it")
    {
        const auto acmedns_port = free_port();
        const auto acmedns = "http://127.0.0.1:" + std::to_string(acmedns_port);
        backend_rig rig(
            {.domains = {{"www.customer.test", "www"}},
             .extra_config = "[acmedns]\nlisten = [\"127.0.0.1:" + std::to_string(acmedns_port) +
                             "\"]\nregistration = \"open\"\n",
             .api = true}
        );
        REQUIRE(rig.certfleet({"cert", "add", "--name", "www.customer.test"}).exit_code == 0);
        const auto token = rig.make_token("prometheus", "read");
        rig.start_serve();
        REQUIRE(rig.wait_all_valid(1, 120s));

        // An acme-dns client registers, updates once, then once with a wrong key.
        REQUIRE(wait_for_tcp(acmedns_port, 10s, rig.serve()));
        const auto registered = run({"curl", "-sS", "-X", "POST", acmedns + "/register"});
        const auto account = nlohmann::json::parse(registered.out, nullptr, false);
        INFO(registered.out, registered.err);
        REQUIRE(account.is_object());
        const auto update = [&](const std::string& key) {
            const nlohmann::json body{
                {"subdomain", account.value("subdomain", "")}, {"txt", std::string(43, 'x')}};
            return run(
                {"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H",
                 "X-Api-User: " + account.value("username", ""), "-H", "X-Api-Key: " + key,
                 "--data", body.dump(), acmedns + "/update"}
            );
        };
        CHECK(update(account.value("password", "")).out == "200");
        CHECK(update("not-the-key-of-this-account-at-all-00000000").out == "401");

        CHECK(rig.api(boost::beast::http::verb::get, "/metrics", "").status == 401);
        const auto reply = rig.api(boost::beast::http::verb::get, "/metrics", token);
        INFO(reply.error, reply.body);
        REQUIRE(reply.status == 200);
        CHECK(reply.header("Content-Type").starts_with("text/plain; version=0.0.4"));
        const auto& text = reply.body;
        check_with_promtool(rig.dir(), text);
        CHECK(value_of(text, R"(certfleet_certificates{state="valid"})") == 1);
        CHECK(value_of(text, R"(certfleet_renewals_total{ca="default",outcome="issued"})") == 1);
        CHECK(
            value_of(
                text,
                R"(certfleet_acme_requests_total{ca="default",endpoint="newOrder",outcome="2xx"})"
            ) == 1
        );
        CHECK(value_of(text, "certfleet_certificate_earliest_expiry_seconds") > 0);
        CHECK(value_of(text, rcode_series("NOERROR")) >= 1);
        CHECK(value_of(text, "certfleet_start_time_seconds") > 0);
        CHECK(value_of(text, R"(certfleet_acmedns_registrations_total{result="ok"})") == 1);
        CHECK(value_of(text, R"(certfleet_acmedns_updates_total{result="ok"})") == 1);
        CHECK(value_of(text, R"(certfleet_acmedns_updates_total{result="forbidden"})") == 1);
        CHECK(value_of(text, R"(certfleet_acmedns_updates_total{result="bad_request"})") == 0);
    }
}

} // namespace certfleet::test

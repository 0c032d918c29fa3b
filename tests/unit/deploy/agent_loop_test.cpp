#include <doctest/doctest.h>

#include <atomic>
#include <fstream>

#include "deploy/agent.hpp"
#include "unit/deploy/agent_fakes.hpp"

using namespace certfleet;
using namespace certfleet::deploy;
using namespace certfleet::deploy::test;
using namespace std::chrono_literals;

namespace {

const leaf& cert(int n)
{
    static const leaf l1 = make_leaf(std::chrono::hours{24 * 90});
    static const leaf l2 = make_leaf(std::chrono::hours{24 * 90});
    static const leaf l3 = make_leaf(std::chrono::hours{24 * 90});
    return n == 1 ? l1 : n == 2 ? l2 : l3;
}

void enroll(harness& h, agent& a)
{
    std::string problem;
    const auto r = a.enroll(h.server.token(), "web1.example.net", &problem);
    INFO(problem);
    REQUIRE(r.has_value());
}

void poll_ok(agent& a)
{
    const auto outcome = a.run_once();
    INFO(outcome.problem);
    REQUIRE_FALSE(outcome.error);
}

std::vector<std::string> statuses(const fake_server& s)
{
    std::vector<std::string> out;
    for (const auto& r : s.reports) {
        out.push_back(r.status + " " + std::to_string(r.version));
    }
    return out;
}

using strings = std::vector<std::string>;

// A window tomorrow 02:00-04:00 (relative to the harness clock) and the week after.
std::vector<opening> windows_from(time_point now)
{
    return {{now + 24h, now + 26h}, {now + 24h * 8, now + 24h * 8 + 2h}};
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("agent: a bundle is staged at once and applied when the window opens")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.openings = windows_from(h.now);
        h.server.offer(3, 1, cert(1));
        poll_ok(a);
        CHECK(h.applies.empty());
        CHECK(statuses(h.server) == strings{"staged 1"});
        CHECK(h.server.polls.back().assignments.empty()); // knew nothing before this poll

        h.now += 23h; // still closed
        poll_ok(a);
        CHECK(h.applies.empty());
        CHECK(h.server.polls.back().assignments.size() == 1);
        CHECK(h.server.polls.back().assignments[0].staged == 1);
        CHECK_FALSE(h.server.polls.back().assignments[0].deployed.has_value());

        h.now += 1h + 5min; // open
        poll_ok(a);
        REQUIRE(h.applies.size() == 1);
        CHECK(h.applies[0].version == 1);
        CHECK(h.applies[0].work_dir == dir.path / "work" / "3");
        CHECK(statuses(h.server) == strings{"staged 1", "deployed 1"});
        CHECK(h.server.reports.back().result["trigger"] == "window");

        poll_ok(a); // nothing more to do
        CHECK(h.applies.size() == 1);
        CHECK(h.server.polls.back().assignments[0].deployed == 1);
    }

    TEST_CASE("agent: the window works from the openings last received while the server is away")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.openings = windows_from(h.now);
        h.server.offer(3, 1, cert(1));
        poll_ok(a);
        h.server.down = make_error_code(net::errc::connection_refused);
        h.now += 24h + 1min;
        const auto outcome = a.run_once();
        CHECK(outcome.error == net::errc::connection_refused);
        REQUIRE(h.applies.size() == 1); // applied anyway
        CHECK(statuses(h.server) == strings{"staged 1"});
        h.server.down.reset();
        poll_ok(a); // the queued report goes out
        CHECK(statuses(h.server) == strings{"staged 1", "deployed 1"});
    }

    TEST_CASE("agent: an endpoint serving another certificate than the deployed one is drift")
    {
        temp_dir dir;
        harness h;
        agent_options options;
        options.drift_interval = 15min;
        auto a = h.make(dir.path, options);
        enroll(h, a);
        h.server.target_options = {
            {"dir", "/etc/ssl/www"},
            {"verify", {{"host", "127.0.0.1"}, {"port", 8443}, {"sni", "www.example.com"}}}};
        h.server.offer(3, 1, cert(1));
        const auto deployed = core::to_hex(cert(1).info.sha256_fingerprint);
        poll_ok(a);
        CHECK(statuses(h.server) == strings{"staged 1", "deployed 1"});
        CHECK(h.probes.empty()); // the target verified it just now

        h.served_sha256 = deployed;
        h.now += 16min;
        poll_ok(a);
        REQUIRE(h.probes.size() == 1);
        CHECK(h.probes[0].host == "127.0.0.1");
        CHECK(h.probes[0].port == 8443);
        CHECK(h.probes[0].sni == "www.example.com");
        CHECK(h.probes[0].expect_sha256.value() == deployed);
        CHECK(h.server.reports.size() == 2); // as deployed: nothing to say

        h.now += 5min; // within the interval: no probe
        poll_ok(a);
        CHECK(h.probes.size() == 1);

        const auto other = core::to_hex(cert(2).info.sha256_fingerprint);
        h.served_sha256 = other;
        h.now += 11min;
        poll_ok(a);
        REQUIRE(h.server.reports.size() == 3);
        const auto& drift = h.server.reports.back();
        CHECK(drift.status == "deployed");
        CHECK(drift.version == 1);
        CHECK(drift.drift.find(other) != std::string::npos);
        CHECK(drift.drift.find(deployed) != std::string::npos);

        h.now += 16min; // the same drift again: not reported twice
        poll_ok(a);
        CHECK(h.server.reports.size() == 3);

        h.served_sha256 = deployed;
        h.now += 16min; // gone: said once
        poll_ok(a);
        REQUIRE(h.server.reports.size() == 4);
        CHECK(h.server.reports.back().drift.empty());
    }

    TEST_CASE("agent: deploy now applies a staged bundle at once")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.openings = windows_from(h.now);
        h.server.deploy_now = 4; // before the agent knew the assignment: not a request for it
        h.server.offer(3, 1, cert(1));
        poll_ok(a);
        CHECK(h.applies.empty());
        h.server.deploy_now = 5;
        poll_ok(a);
        REQUIRE(h.applies.size() == 1);
        CHECK(h.server.reports.back().status == "deployed");
        CHECK(h.server.reports.back().result["trigger"] == "deploy_now");
        h.server.offer(3, 2, cert(2)); // the same deploy_now value does not apply the next one
        poll_ok(a);
        CHECK(h.applies.size() == 1);
    }

    TEST_CASE("agent: a certificate that expires before the next window is replaced at once")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.offer(3, 1, cert(1)); // no window: applied at once
        poll_ok(a);
        REQUIRE(h.applies.size() == 1);
        CHECK(h.server.reports.back().result["trigger"] == "no_window");

        const auto expires = cert(1).info.not_after;
        h.server.openings = {{expires + 24h, expires + 26h}};
        h.server.offer(3, 2, cert(2));
        poll_ok(a);
        REQUIRE(h.applies.size() == 2);
        CHECK(h.applies[1].version == 2);
        const auto& r = h.server.reports.back();
        CHECK(r.status == "deployed");
        CHECK(r.result["trigger"] == "expiry");
        const auto why = r.result["why"].get<std::string>();
        CHECK(why.find("the certificate in service expires at " + format_utc(expires)) == 0);
        CHECK(why.find("before the next deployment window opens at") != std::string::npos);
    }

    TEST_CASE("agent: bundles that do not verify are refused, reported, and nothing is applied")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.offer(3, 1, cert(1));
        poll_ok(a); // deployed 1 (no window)
        REQUIRE(h.applies.size() == 1);
        std::string text;
        boost::system::error_code expected;
        std::int64_t version = 2;
        SUBCASE("tampered")
        {
            text = h.server.make_bundle(3, 2, cert(2));
            auto j = nlohmann::json::parse(text);
            auto sig = j["signature"].get<std::string>();
            sig[10] = sig[10] == 'A' ? 'B' : 'A';
            j["signature"] = sig;
            text = j.dump();
            expected = make_error_code(errc::bad_signature);
        }
        SUBCASE("signed by another key")
        {
            const auto other = real_crypto().generate_p256().value();
            text = h.server.make_bundle(3, 2, cert(2), std::nullopt, &other);
            expected = make_error_code(errc::bad_signature);
        }
        SUBCASE("made for another agent")
        {
            text = h.server.make_bundle(3, 2, cert(2), "web2");
            expected = make_error_code(errc::wrong_agent);
        }
        SUBCASE("replayed: the version deployed")
        {
            text = h.server.bundles.front().text;
            version = 1;
            expected = make_error_code(errc::replayed_bundle);
        }
        h.server.send_once.push_back(text);
        poll_ok(a);
        CHECK(h.applies.size() == 1);
        REQUIRE(h.server.reports.back().status == "refused");
        CHECK(h.server.reports.back().version == version);
        CHECK(h.server.reports.back().result["error"] == expected.message());
        CHECK(h.server.polls.back().assignments[0].deployed == 1);

        h.server.send_once.push_back(text); // the same refusal is not reported twice
        const auto before = h.server.reports.size();
        poll_ok(a);
        CHECK(h.server.reports.size() == before);
    }

    TEST_CASE("agent: a version below the staged one is refused as a replay")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.openings = windows_from(h.now);
        const auto old_v2 = h.server.make_bundle(3, 2, cert(2));
        h.server.offer(3, 3, cert(3));
        poll_ok(a);
        CHECK(statuses(h.server) == strings{"staged 3"});
        h.server.send_once.push_back(old_v2);
        poll_ok(a);
        CHECK(statuses(h.server) == strings{"staged 3", "refused 2"});
        CHECK(
            h.server.reports.back().result["error"] ==
            make_error_code(errc::replayed_bundle).message()
        );
        h.now += 24h + 1min;
        poll_ok(a);
        REQUIRE(h.applies.size() == 1);
        CHECK(h.applies[0].version == 3);
    }
}

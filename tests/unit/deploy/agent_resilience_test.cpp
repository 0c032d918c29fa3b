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

const leaf& cert1()
{
    static const leaf l = make_leaf(std::chrono::hours{24 * 90});
    return l;
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

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("agent: a failed apply stays staged and is retried at the next opening only")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.openings = {{h.now + 1h, h.now + 3h}, {h.now + 169h, h.now + 171h}};
        h.server.offer(3, 1, cert1());
        poll_ok(a);
        h.target_ok = false;
        h.now += 1h + 1min;
        poll_ok(a);
        REQUIRE(h.applies.size() == 1);
        CHECK(h.server.reports.back().status == "failed");
        CHECK(h.server.reports.back().result["stage"] == "reload");
        CHECK(h.server.polls.back().assignments[0].staged == 1);
        for (int i = 0; i < 5; ++i) { // the same opening: no hot loop
            h.now += 10min;
            poll_ok(a);
        }
        CHECK(h.applies.size() == 1);
        const auto status = a.status().value();
        REQUIRE(status.assignments.size() == 1);
        CHECK(status.assignments[0].staged_version == 1);
        CHECK(status.assignments[0].last_status == "failed");
        CHECK(status.assignments[0].next_step.find("the last attempt failed") == 0);

        h.target_ok = true;
        h.now = h.server.openings[1].start + 1min;
        poll_ok(a);
        REQUIRE(h.applies.size() == 2);
        CHECK(h.server.reports.back().status == "deployed");
    }

    TEST_CASE("agent: transport failures back off exponentially with jitter, bounded")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        poll_ok(a);
        h.server.down = make_error_code(net::errc::connect_failed);
        std::atomic<bool> stop{false};
        const std::size_t rounds = 14;
        h.on_sleep = [&] { stop = h.sleeps.size() == rounds; };
        SUBCASE("delays stay within [1 s, min(2^n s, 300 s)] and grow")
        {
            CHECK_FALSE(a.run(stop));
            REQUIRE(h.sleeps.size() == rounds);
            std::chrono::milliseconds longest{0};
            for (std::size_t i = 0; i < rounds; ++i) {
                const auto ceiling = std::min<std::int64_t>(1000LL << i, 300'000);
                CHECK(h.sleeps[i].count() >= 1000);
                CHECK(h.sleeps[i].count() <= ceiling);
                longest = std::max(longest, h.sleeps[i]);
            }
            CHECK(longest.count() > 16'000);     // the range grew well past the start
            CHECK(h.sleeps[12] != h.sleeps[13]); // jittered, not a fixed schedule
        }
        SUBCASE("the top of the range doubles up to the cap")
        {
            h.random = [] { return ~std::uint64_t{0}; };
            CHECK_FALSE(a.run(stop));
            REQUIRE(h.sleeps.size() == rounds);
            for (std::size_t i = 0; i < 9; ++i) {
                CHECK(h.sleeps[i].count() >= (1000LL << i) - 1);
                CHECK(h.sleeps[i].count() <= (1000LL << i));
            }
            for (std::size_t i = 9; i < rounds; ++i) { // 512 s and more: capped
                CHECK(h.sleeps[i].count() >= 299'999);
                CHECK(h.sleeps[i].count() <= 300'000);
            }
        }
        SUBCASE("the bottom of the range stays at the minimum")
        {
            h.random = [] { return std::uint64_t{0}; };
            CHECK_FALSE(a.run(stop));
            CHECK(h.sleeps.back() == 1s);
        }
        CHECK(h.server.polls.size() == 1);          // every later attempt failed
        CHECK(load_identity(dir.path).has_value()); // nothing lost
        CHECK(load_state(dir.path).value().assignments.size() == 1);
        h.server.down.reset();
        poll_ok(a); // and back in contact
    }

    TEST_CASE("agent: the server's Retry-After lengthens the wait, within the cap")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        h.server.poll_status = 503; // answers Retry-After: 120
        std::atomic<bool> stop{false};
        h.random = [] { return std::uint64_t{0}; };
        h.on_sleep = [&] { stop = true; };
        CHECK_FALSE(a.run(stop));
        REQUIRE(h.sleeps.size() == 1);
        CHECK(h.sleeps[0] == 120s);
    }

    TEST_CASE("agent: a poll answered early with nothing new waits out the poll time")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        std::atomic<bool> stop{false};
        h.server.on_poll = [&] {
            h.now += 5s;
            if (h.server.polls.size() == 3) {
                stop = true;
            }
        };
        CHECK_FALSE(a.run(stop));
        // The first poll learnt the assignment (something new); the second had nothing.
        REQUIRE(h.sleeps.size() == 1);
        CHECK(h.sleeps[0] == 20s);
    }

    TEST_CASE("agent: state survives a restart")
    {
        temp_dir dir;
        harness h;
        {
            auto a = h.make(dir.path);
            enroll(h, a);
            h.server.openings = {{h.now + 1h, h.now + 3h}};
            h.server.deploy_now = 2;
            h.server.offer(3, 1, cert1());
            poll_ok(a);
        }
        h.server.down = make_error_code(net::errc::connection_refused);
        h.now += 1h + 1min;
        auto b = h.make(dir.path); // a new process: server away, window open
        const auto outcome = b.run_once();
        CHECK(outcome.error == net::errc::connection_refused);
        REQUIRE(h.applies.size() == 1);
        CHECK(h.applies[0].version == 1);
        const auto st = b.status().value();
        CHECK(st.agent == "web1");
        REQUIRE(st.assignments.size() == 1);
        CHECK(st.assignments[0].deployed_version == 1);
        CHECK(st.assignments[0].deployed_not_after.has_value());
        CHECK(st.unsent_reports == 1); // "deployed" waits for the server; "staged" went out
        CHECK(h.server.reports.size() == 1);
    }

    TEST_CASE("agent: a corrupt state file is an error naming the file and what to do")
    {
        temp_dir dir;
        harness h;
        auto a = h.make(dir.path);
        enroll(h, a);
        poll_ok(a);
        std::ofstream(state_file(dir.path)) << "{\"format\":1,\"openings\":[";
        auto b = h.make(dir.path);
        const auto outcome = b.run_once();
        CHECK(outcome.error == errc::state_corrupt);
        CHECK(outcome.problem.find(state_file(dir.path).string()) != std::string::npos);
        CHECK(outcome.problem.find("remove it and restart the agent") != std::string::npos);
        std::string problem;
        std::ofstream(identity_file(dir.path)) << "[]";
        CHECK(load_identity(dir.path, &problem).error() == errc::state_corrupt);
        CHECK(problem.find(identity_file(dir.path).string()) != std::string::npos);
        CHECK(problem.find("enroll again") != std::string::npos);
    }
}

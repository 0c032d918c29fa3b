#include "deploy/agent_policy.hpp"

#include <doctest/doctest.h>

using namespace certfleet::deploy;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{std::chrono::seconds{1'800'000'000}};

assignment_state staged(std::int64_t version, std::optional<std::int64_t> deployed = std::nullopt)
{
    assignment_state a;
    a.id = 1;
    a.staged_version = version;
    a.staged_bundle = "{...}";
    a.deployed_version = deployed;
    a.deploy_now_acted = 0;
    return a;
}

apply_trigger decide(
    const assignment_state& a,
    const std::vector<opening>& o,
    time_point now,
    std::int64_t deploy_now = 0
)
{
    return decide_apply(a, o, deploy_now, now, 1h).trigger;
}

} // namespace

TEST_SUITE("deploy")
{
    TEST_CASE("agent policy: when a staged bundle is applied")
    {
        const std::vector<opening> week{{t0 + 2h, t0 + 4h}, {t0 + 170h, t0 + 172h}};
        CHECK(decide(staged(2, 2), {}, t0) == apply_trigger::none);         // nothing newer
        CHECK(decide(staged(2, 3), {}, t0) == apply_trigger::none);         // older than deployed
        CHECK(decide(staged(2), {}, t0) == apply_trigger::no_window);       // no window set
        CHECK(decide(staged(2), week, t0) == apply_trigger::none);          // closed
        CHECK(decide(staged(2), week, t0 + 2h) == apply_trigger::window);   // opens (inclusive)
        CHECK(decide(staged(2), week, t0 + 4h) == apply_trigger::none);     // closes (exclusive)
        CHECK(decide(staged(2), week, t0, 1) == apply_trigger::deploy_now); // operator
        auto unstaged = staged(2);
        unstaged.staged_bundle.clear();
        CHECK(decide(unstaged, {}, t0, 1) == apply_trigger::none);
        CHECK(format_utc(t0) == "2027-01-15T08:00:00Z");
        CHECK(
            decide_apply(staged(2), week, 0, t0, 1h).why ==
            "waiting for the deployment window opening at " + format_utc(t0 + 2h)
        );
    }

    TEST_CASE("agent policy: expiry before the next opening applies at once")
    {
        const std::vector<opening> week{{t0 + 2h, t0 + 4h}};
        auto a = staged(2, 1);
        a.deployed_not_after = t0 + 3h; // after the opening starts: wait for it
        CHECK(decide(a, week, t0) == apply_trigger::none);
        a.deployed_not_after = t0 + 1h;
        const auto d = decide_apply(a, week, 0, t0, 1h);
        CHECK(d.trigger == apply_trigger::expiry);
        CHECK(
            d.why == "the certificate in service expires at " + format_utc(t0 + 1h) +
                         ", before the next deployment window opens at " + format_utc(t0 + 2h)
        );
        a.deployed_not_after = t0 + 1000h; // openings all past: none known
        const auto late = decide_apply(a, week, 0, t0 + 5h, 1h);
        CHECK(late.trigger == apply_trigger::expiry);
        CHECK(late.why.find("no future deployment window is known") != std::string::npos);
    }

    TEST_CASE("agent policy: a failed version waits for a later opening or the retry time")
    {
        const std::vector<opening> week{{t0 + 2h, t0 + 4h}, {t0 + 170h, t0 + 172h}};
        auto a = staged(2);
        a.failed_version = 2;
        a.failed_at = t0 + 2h + 1min;
        CHECK(decide(a, week, t0 + 3h) == apply_trigger::none);
        CHECK(decide(a, week, t0 + 170h) == apply_trigger::window);
        CHECK(decide(a, week, t0 + 3h, 1) == apply_trigger::deploy_now);
        CHECK(decide(a, {}, t0 + 2h + 30min) == apply_trigger::none);
        CHECK(decide(a, {}, t0 + 3h + 1min) == apply_trigger::no_window);
        a.staged_version = 3; // a newer version is not held back by the old failure
        CHECK(decide(a, week, t0 + 3h) == apply_trigger::window);
    }

    TEST_CASE("agent policy: the next window start bounds a poll only while a bundle waits")
    {
        const std::vector<opening> week{{t0 + 2h, t0 + 4h}, {t0 + 170h, t0 + 172h}};
        const std::vector<assignment_state> waiting{staged(2, 2), staged(3, 2)};
        CHECK(next_window_start(waiting, week, t0) == t0 + 2h);
        CHECK(next_window_start(waiting, week, t0 + 3h) == t0 + 170h); // open now: the next one
        CHECK_FALSE(next_window_start({staged(2, 2)}, week, t0).has_value()); // nothing pending
        CHECK_FALSE(next_window_start(waiting, {}, t0).has_value());          // no window
        CHECK_FALSE(next_window_start({}, week, t0).has_value());
    }
}

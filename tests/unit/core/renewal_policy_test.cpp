#include "core/renewal_policy.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace certfleet::core {
namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

// A fake clock: a fixed instant every test starts from.
const time_point t0 = time_point(std::chrono::seconds(1'800'000'000));

renewal_facts issued(time_point not_before, std::chrono::hours lifetime)
{
    renewal_facts f;
    f.not_before = not_before;
    f.not_after = not_before + lifetime;
    return f;
}

} // namespace

TEST_SUITE("core")
{
    TEST_CASE("renewal: a certificate without a version is due now")
    {
        const auto plan = plan_renewal({}, {}, t0, 0.7);
        CHECK(plan.renew_at == t0);
        CHECK(plan.reason == renewal_reason::first_issuance);
        CHECK_FALSE(plan.alert);
    }

    TEST_CASE(
        "renewal: without ARI, when a third of the lifetime remains, moved earlier by the jitter"
    )
    {
        const auto f = issued(t0, 47 * 24h); // the 47-day lifetime
        renewal_policy_options o;
        o.max_jitter = 1h;
        const auto third_left = *f.not_after - (47 * 24h) / 3;
        CHECK(plan_renewal(f, o, t0, 0.0).renew_at == third_left);
        const auto late = plan_renewal(f, o, t0, 0.999).renew_at;
        CHECK(late < third_left);
        CHECK(late >= third_left - 1h);
        CHECK(plan_renewal(f, o, t0, 0.5).reason == renewal_reason::lifetime_third);
        SUBCASE("the jitter never exceeds a fiftieth of a short lifetime")
        {
            const auto short_lived = issued(t0, 24h);
            const auto at = plan_renewal(short_lived, o, t0, 0.999).renew_at;
            CHECK(at >= *short_lived.not_after - 8h - std::chrono::seconds(24 * 3600) / 50);
        }
    }

    TEST_CASE(
        "renewal: with ARI (RFC 9773 4.2), a random point inside the window, or now once it passed"
    )
    {
        auto f = issued(t0, 90 * 24h);
        f.ari_window_start = t0 + 60 * 24h;
        f.ari_window_end = t0 + 62 * 24h;
        for (double draw : {0.0, 0.25, 0.5, 0.999}) {
            const auto plan = plan_renewal(f, {}, t0, draw);
            CHECK(plan.reason == renewal_reason::ari_window);
            CHECK(plan.renew_at >= *f.ari_window_start);
            CHECK(plan.renew_at < *f.ari_window_end);
        }
        const auto later = t0 + 70 * 24h;
        CHECK(plan_renewal(f, {}, later, 0.5).renew_at == later);
        SUBCASE("an inverted window is ignored: the lifetime rule applies")
        {
            std::swap(f.ari_window_start, f.ari_window_end);
            CHECK(plan_renewal(f, {}, t0, 0.5).reason == renewal_reason::lifetime_third);
        }
    }

    TEST_CASE(
        "renewal: exponential backoff after failures, capped, and the CA's Retry-After honoured"
    )
    {
        renewal_policy_options o;
        o.first_backoff = 300s;
        o.max_backoff = 4h;
        renewal_facts f;
        f.last_failure_at = t0;
        const std::vector<std::pair<int, std::chrono::seconds>> rows{
            {1, 300s}, {2, 600s}, {3, 1200s}, {6, 9600s}, {7, 4h}, {40, 4h}};
        for (const auto& [failures, full] : rows) {
            f.consecutive_failures = failures;
            CAPTURE(failures);
            const auto low = plan_renewal(f, o, t0, 0.0);
            const auto high = plan_renewal(f, o, t0, 0.999);
            CHECK(low.reason == renewal_reason::backoff);
            CHECK(low.renew_at == t0 + full / 2);
            CHECK(high.renew_at <= t0 + full);
            CHECK(high.renew_at > t0 + full * 0.99);
        }
        f.consecutive_failures = 1;
        f.ca_retry_at = t0 + 2h;
        const auto plan = plan_renewal(f, o, t0, 0.5);
        CHECK(plan.renew_at == t0 + 2h);
        CHECK(plan.reason == renewal_reason::retry_after);
    }

    TEST_CASE("renewal: an alert when the next attempt falls at or after the expiry")
    {
        auto f = issued(t0 - 46 * 24h, 47 * 24h); // expires in one day
        f.consecutive_failures = 3;
        f.last_failure_at = t0;
        renewal_policy_options o;
        o.first_backoff = 12h; // the third failure waits 24-48 h
        o.max_backoff = 72h;
        CHECK(plan_renewal(f, o, t0, 0.5).alert);
        o.first_backoff = 1h;
        CHECK_FALSE(plan_renewal(f, o, t0, 0.5).alert);
    }

    TEST_CASE("renewal: the stable draw lies between 0 and 1, repeatable and spread")
    {
        double sum = 0;
        for (std::int64_t id = 1; id <= 1000; ++id) {
            const double d = stable_draw(id, 42);
            CHECK(d >= 0.0);
            CHECK(d < 1.0);
            CHECK(d == stable_draw(id, 42));
            sum += d;
        }
        CHECK(sum / 1000 > 0.45);
        CHECK(sum / 1000 < 0.55);
        CHECK(stable_draw(1, 1) != stable_draw(1, 2));
    }
}

} // namespace certfleet::core

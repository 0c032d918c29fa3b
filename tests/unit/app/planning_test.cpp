#include "app/planning.hpp"

#include <doctest/doctest.h>

namespace certfleet::app {
namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;
const time_point t0 = time_point(std::chrono::seconds(1'800'000'000));

core::planning_row issued_row()
{
    core::planning_row row;
    row.certificate_id = 7;
    row.state = core::certificate_state::valid;
    row.not_before = t0 - 10 * 24h;
    row.not_after = t0 + 80 * 24h;
    return row;
}

} // namespace

TEST_SUITE("app")
{
    TEST_CASE("planning: nothing happens before the stored next attempt (a backoff, a Retry-After)")
    {
        auto row = issued_row();
        row.not_after = t0 - 1h; // expired: due at once
        CHECK(plan_for(row, {}, t0).renew_at == t0);
        row.next_attempt_at = t0 + 2h;
        CHECK(plan_for(row, {}, t0).renew_at == t0 + 2h);
    }

    TEST_CASE("planning: the ARI window is asked again at its Retry-After when that comes first")
    {
        auto row = issued_row();
        row.ari_window_start = t0 + 50 * 24h;
        row.ari_window_end = t0 + 51 * 24h;
        auto w = next_wake(row, {}, t0);
        CHECK(w.kind == wake_kind::renew);
        CHECK(w.at >= *row.ari_window_start);
        row.ari_retry_at = t0 + 6h;
        w = next_wake(row, {}, t0);
        CHECK(w.kind == wake_kind::refresh_window);
        CHECK(w.at == t0 + 6h);
        SUBCASE("a re-check already past is done now")
        {
            row.ari_retry_at = t0 - 1h;
            CHECK(next_wake(row, {}, t0).at == t0);
        }
        SUBCASE("a renewal due before the re-check comes first")
        {
            row.ari_window_start = t0 - 2h;
            row.ari_window_end = t0 - 1h;
            CHECK(next_wake(row, {}, t0).kind == wake_kind::renew);
        }
    }

    TEST_CASE("planning: a new certificate is due at once")
    {
        core::planning_row row;
        row.certificate_id = 1;
        row.next_attempt_at = t0;
        CHECK(next_wake(row, {}, t0).at == t0);
        CHECK(next_wake(row, {}, t0).kind == wake_kind::renew);
    }
}

} // namespace certfleet::app

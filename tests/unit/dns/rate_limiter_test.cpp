#include "dns/rate_limiter.hpp"

#include <doctest/doctest.h>

#include <array>

using namespace certfleet::dns;

namespace {

struct counts
{
    int sent = 0;
    int dropped = 0;
    int truncated = 0;
};

counts run(rate_limiter& limiter, std::uint64_t key, std::uint32_t now, int answers)
{
    counts c;
    std::uint32_t slip = 0;
    for (int i = 0; i < answers; ++i) {
        switch (limiter.decide(key, now, slip)) {
        case rate_verdict::send:
            ++c.sent;
            break;
        case rate_verdict::drop:
            ++c.dropped;
            break;
        case rate_verdict::truncate:
            ++c.truncated;
            break;
        }
    }
    return c;
}

constexpr std::array<std::uint8_t, 4> client_a{192, 0, 2, 1};
constexpr std::array<std::uint8_t, 4> client_a_neighbour{192, 0, 2, 200}; // same /24
constexpr std::array<std::uint8_t, 4> client_b{198, 51, 100, 7};

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("rate limiter: answers over the rate are dropped, every slip-th sent truncated")
    {
        rate_limiter limiter({.responses_per_second = 10, .slip = 2});
        const auto key = limiter.key(client_a, 42);
        const auto c = run(limiter, key, 100, 100);
        CHECK(c.sent == 10);
        CHECK(c.truncated == 45);
        CHECK(c.dropped == 45);
    }

    TEST_CASE("rate limiter: slip 0 drops every limited answer, slip 1 truncates every one")
    {
        rate_limiter none({.responses_per_second = 5, .slip = 0});
        auto c = run(none, none.key(client_a, 1), 7, 50);
        CHECK(c.sent == 5);
        CHECK(c.truncated == 0);
        CHECK(c.dropped == 45);
        rate_limiter all({.responses_per_second = 5, .slip = 1});
        c = run(all, all.key(client_a, 1), 7, 50);
        CHECK(c.sent == 5);
        CHECK(c.truncated == 45);
    }

    TEST_CASE("rate limiter: one budget per /24 and per answer, others keep theirs")
    {
        rate_limiter limiter({.responses_per_second = 10, .slip = 2});
        CHECK(run(limiter, limiter.key(client_a, 1), 5, 10).sent == 10);
        // The same /24 shares the budget; another prefix or another answer does not.
        CHECK(run(limiter, limiter.key(client_a_neighbour, 1), 5, 10).sent == 0);
        CHECK(run(limiter, limiter.key(client_b, 1), 5, 10).sent == 10);
        CHECK(run(limiter, limiter.key(client_a, 2), 5, 10).sent == 10);
    }

    TEST_CASE("rate limiter: IPv6 sources share a /56")
    {
        rate_limiter limiter({.responses_per_second = 3, .slip = 0});
        std::array<std::uint8_t, 16> one{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x12};
        auto same_56 = one;
        same_56[6] = 0x12;
        same_56[7] = 0xff; // another /64 in the same /56
        same_56[15] = 1;
        auto other_56 = one;
        other_56[6] = 0x13;
        CHECK(run(limiter, limiter.key(one, 9), 1, 3).sent == 3);
        CHECK(run(limiter, limiter.key(same_56, 9), 1, 3).sent == 0);
        CHECK(run(limiter, limiter.key(other_56, 9), 1, 3).sent == 3);
    }

    TEST_CASE("rate limiter: the budget comes back with time")
    {
        rate_limiter limiter({.responses_per_second = 10, .slip = 0});
        const auto key = limiter.key(client_a, 3);
        CHECK(run(limiter, key, 1000, 30).sent == 10);
        // Limited answers count too: a source that kept asking gets nothing in the next second.
        CHECK(run(limiter, key, 1001, 20).sent == 0);
        CHECK(run(limiter, key, 1003, 20).sent == 10);
        // A quiet source gets its whole budget back after a second.
        const auto other = limiter.key(client_b, 3);
        CHECK(run(limiter, other, 2000, 10).sent == 10);
        CHECK(run(limiter, other, 2001, 10).sent == 10);
    }
}

#include "dns/tcp_admission.hpp"

#include <doctest/doctest.h>

#include <array>
#include <vector>

using namespace certfleet::dns;
using namespace std::chrono_literals;
using verdict = tcp_admission::verdict;

namespace {

const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

tcp_connection_state idle(std::uint64_t source, std::chrono::milliseconds since)
{
    return {source, true, t0 - since};
}
tcp_connection_state busy(std::uint64_t source)
{
    return {source, false, t0 - 10s};
}

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("TCP admission: room left admits")
    {
        const std::vector open{idle(1, 5s), busy(2)};
        CHECK(admit_tcp(open, 3, t0, {.max_connections = 3}).what == verdict::admit);
    }

    TEST_CASE("TCP admission: a full server evicts the connection idle the longest")
    {
        const std::vector open{idle(1, 3s), idle(2, 9s), busy(3), idle(4, 5s)};
        const auto a = admit_tcp(open, 5, t0, {.max_connections = 4});
        CHECK(a.what == verdict::admit_after_evicting);
        CHECK(a.victim == 1);
    }

    TEST_CASE("TCP admission: a full server keeps connections busy or just answered")
    {
        const std::vector open{busy(1), idle(2, 100ms), busy(3)};
        const auto a = admit_tcp(open, 5, t0, {.max_connections = 3, .evict_idle_after = 1000ms});
        CHECK(a.what == verdict::refuse);
    }

    TEST_CASE("TCP admission: a source at its cap gives up its own oldest idle connection")
    {
        // Source 7 holds three of many slots; others are older and idle, but not its to take.
        const std::vector open{idle(1, 60s), idle(7, 2s), idle(7, 4s), busy(7), idle(2, 50s)};
        const auto a = admit_tcp(open, 7, t0, {.max_connections = 100, .max_per_source = 3});
        CHECK(a.what == verdict::admit_after_evicting);
        CHECK(a.victim == 2);
        // All busy: refused, whatever room the server has.
        const std::vector all_busy{busy(7), busy(7), busy(7)};
        CHECK(
            admit_tcp(all_busy, 7, t0, {.max_connections = 100, .max_per_source = 3}).what ==
            verdict::refuse
        );
    }

    TEST_CASE("TCP admission: the source of an IPv4 address is the address, of IPv6 the /64")
    {
        const std::array<std::uint8_t, 4> a{192, 0, 2, 1};
        const std::array<std::uint8_t, 4> b{192, 0, 2, 2};
        CHECK(tcp_source_key(a) != tcp_source_key(b));
        std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
        auto same_64 = v6;
        same_64[15] = 0x99;
        auto other_64 = v6;
        other_64[7] = 2;
        CHECK(tcp_source_key(v6) == tcp_source_key(same_64));
        CHECK(tcp_source_key(v6) != tcp_source_key(other_64));
    }
}

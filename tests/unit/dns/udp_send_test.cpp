#include "dns/udp_send.hpp"

#include <doctest/doctest.h>

#include <array>
#include <set>
#include <vector>

using namespace certfleet::dns;

namespace {

// Behaves as sendmmsg over `messages`: sends from the front until a message in `refused` (by
// index) or, with `full_after`, until that many were sent in all.
struct fake_socket
{
    std::span<mmsghdr> all;
    std::set<std::size_t> refused;
    int refusal = EINVAL;
    std::size_t full_after = 1000;
    std::vector<std::size_t> delivered;

    int operator()(std::span<mmsghdr> rest)
    {
        const auto first = static_cast<std::size_t>(rest.data() - all.data());
        int n = 0;
        for (std::size_t i = first; i < all.size(); ++i) {
            if (refused.contains(i) || delivered.size() >= full_after) {
                break;
            }
            delivered.push_back(i);
            ++n;
        }
        if (n == 0) {
            errno = delivered.size() >= full_after ? EAGAIN : refusal;
            return -1;
        }
        return n;
    }
};

} // namespace

TEST_SUITE("dns")
{
    TEST_CASE("UDP batch: a reply the kernel refuses costs that reply, not the rest of the batch")
    {
        std::array<mmsghdr, 11> headers{};
        fake_socket socket{headers, {0}}; // the first reply: a query from source port 0
        const auto result = send_batch(headers, std::ref(socket));
        CHECK(result.sent == 10);
        CHECK(result.failed == 1);
        CHECK(socket.delivered == std::vector<std::size_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    }

    TEST_CASE("UDP batch: refusals in the middle and at the end are skipped one by one")
    {
        std::array<mmsghdr, 8> headers{};
        fake_socket socket{headers, {3, 4, 7}, EPERM};
        const auto result = send_batch(headers, std::ref(socket));
        CHECK(result.sent == 5);
        CHECK(result.failed == 3);
        CHECK(socket.delivered == std::vector<std::size_t>{0, 1, 2, 5, 6});
    }

    TEST_CASE("UDP batch: a full socket buffer ends the batch")
    {
        std::array<mmsghdr, 8> headers{};
        fake_socket socket{headers, {}, EINVAL, 5};
        const auto result = send_batch(headers, std::ref(socket));
        CHECK(result.sent == 5);
        CHECK(result.failed == 3);
    }
}

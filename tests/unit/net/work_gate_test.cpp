#include "net/work_gate.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>
#include <vector>

using certfleet::net::work_gate;
namespace asio = boost::asio;

namespace {

// Enters the gate, records its turn, and keeps the pass until `release` is set (polled each turn
// of the loop).
asio::awaitable<void>
holder(work_gate* gate, int id, std::vector<int>* order, std::shared_ptr<bool> release)
{
    auto pass = co_await gate->enter();
    order->push_back(id);
    auto ex = co_await asio::this_coro::executor;
    while (!*release) {
        co_await asio::post(ex, asio::use_awaitable);
    }
}

} // namespace

TEST_SUITE("app")
{
    TEST_CASE("a work gate lets width holders in and hands each released pass to the longest waiter"
    )
    {
        asio::io_context io;
        work_gate gate(io.get_executor(), 2);
        std::vector<int> order;
        std::vector<std::shared_ptr<bool>> release;
        for (int i = 0; i < 5; ++i) {
            release.push_back(std::make_shared<bool>(false));
            asio::co_spawn(io, holder(&gate, i, &order, release.back()), asio::detached);
        }
        for (int i = 0; i < 20; ++i) {
            io.poll_one();
        }
        CHECK(order == std::vector<int>{0, 1});
        CHECK(gate.inside() == 2);
        CHECK(gate.waiting() == 3);

        *release[1] = true; // the second holder leaves: the third enters, not a newcomer
        for (int i = 0; i < 20; ++i) {
            io.poll_one();
        }
        CHECK(order == std::vector<int>{0, 1, 2});
        CHECK(gate.inside() == 2);
        CHECK(gate.waiting() == 2);

        for (auto& r : release) {
            *r = true;
        }
        io.run();
        CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
        CHECK(gate.inside() == 0);
        CHECK(gate.waiting() == 0);
    }

    TEST_CASE("a waiter destroyed while it waits leaves the queue and takes no pass")
    {
        auto io = std::make_unique<asio::io_context>();
        work_gate gate(io->get_executor(), 1);
        std::vector<int> order;
        auto held = std::make_shared<bool>(false);
        asio::co_spawn(*io, holder(&gate, 0, &order, held), asio::detached);
        asio::co_spawn(*io, holder(&gate, 1, &order, held), asio::detached);
        for (int i = 0; i < 20; ++i) {
            io->poll_one();
        }
        REQUIRE(gate.waiting() == 1);
        io.reset(); // destroys both coroutines: the waiter leaves, the holder's pass returns
        CHECK(gate.waiting() == 0);
        CHECK(gate.inside() == 0);
        CHECK(order == std::vector<int>{0});
    }
}

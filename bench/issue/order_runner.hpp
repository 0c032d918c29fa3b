#pragma once
// Runs `count` ACME orders with at most `concurrency` of them in flight, for the issuance benches:
// `order(index)` returns an asio::awaitable<void> for order `index` (0 ≤ index < count) and
// records its own outcome. It must not throw: a throwing order would never be counted as done.
// Completes once every order has.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace certfleet::bench {

template <class Order>
boost::asio::awaitable<void> run_orders(int count, int concurrency, Order order)
{
    namespace asio = boost::asio;
    const auto ex = co_await asio::this_coro::executor;
    int next = 0;
    int running = 0;
    // A finished order wakes the loop at once; the timeout only bounds a missed wake-up.
    asio::system_timer wake(ex);
    auto worker = [&](int index) -> asio::awaitable<void> {
        co_await order(index);
        --running;
        wake.cancel();
    };
    while (next < count || running > 0) {
        while (running < concurrency && next < count) {
            ++running;
            asio::co_spawn(ex, worker(next++), asio::detached);
        }
        wake.expires_after(std::chrono::seconds(1));
        boost::system::error_code ignored;
        co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
}

} // namespace certfleet::bench

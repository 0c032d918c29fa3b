#include "app/agent_hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace certfleet::app {
namespace asio = boost::asio;

agent_hub::agent_hub(
    asio::any_io_executor executor,
    generation_reader read_generation,
    std::chrono::milliseconds check_every
)
    : executor_(std::move(executor)), read_generation_(std::move(read_generation)),
      check_every_(check_every)
{
    generation_ = read_generation_().value_or(0);
}

agent_hub::~agent_hub()
{
    stopped_ = true;
    if (check_timer_) {
        check_timer_->cancel();
    }
}

void agent_hub::start()
{
    check_timer_ = std::make_shared<asio::steady_timer>(executor_);
    asio::co_spawn(executor_, check_loop(), asio::detached);
}

void agent_hub::stop()
{
    stopped_ = true;
    if (check_timer_) {
        check_timer_->cancel();
    }
    wake_all();
}

asio::awaitable<void> agent_hub::check_loop()
{
    // The timer outlives this hub's destruction while the loop unwinds.
    const auto timer = check_timer_;
    while (!stopped_) {
        timer->expires_after(check_every_);
        auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || stopped_) {
            break;
        }
        notify();
    }
}

void agent_hub::notify()
{
    const auto now = read_generation_();
    if (now && *now != generation_) {
        generation_ = *now;
        wake_all();
    }
}

void agent_hub::wake_all()
{
    for (auto* timer : waiters_) {
        timer->cancel();
    }
}

asio::awaitable<void>
agent_hub::wait(std::int64_t seen, std::chrono::steady_clock::time_point deadline)
{
    if (stopped_ || seen != generation_) {
        co_return;
    }
    asio::steady_timer timer(executor_, deadline);
    const auto place = waiters_.insert(waiters_.end(), &timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    waiters_.erase(place);
}

} // namespace certfleet::app

#pragma once
// Where long-polling agents wait (DESIGN section 6: outbound only, a new bundle within seconds).
// A waiting poll holds no thread: it waits on a timer that is cancelled when the store's deploy
// generation (deploy_store.hpp) moves. The hub reads the generation every `check_every`, so a
// change made by another process on the same store (the CLI) wakes the polls too; `notify()`
// makes an in-process change wake them at once.
//
// Thread safety: everything runs on the executor given at construction.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>

namespace certfleet::app {

class agent_hub
{
public:
    using generation_reader = std::function<std::optional<std::int64_t>()>;

    agent_hub(
        boost::asio::any_io_executor executor,
        generation_reader read_generation,
        std::chrono::milliseconds check_every = std::chrono::milliseconds{500}
    );
    ~agent_hub();
    agent_hub(const agent_hub&) = delete;
    agent_hub& operator=(const agent_hub&) = delete;

    void start();
    // Wakes every waiter (they answer at once) and stops checking.
    void stop();

    [[nodiscard]] std::int64_t generation() const noexcept { return generation_; }
    [[nodiscard]] std::size_t waiting() const noexcept { return waiters_.size(); }

    // Returns when the generation differs from `seen`, at `deadline`, or at stop().
    [[nodiscard]] boost::asio::awaitable<void>
    wait(std::int64_t seen, std::chrono::steady_clock::time_point deadline);

    // Reads the generation now and wakes the waiters when it moved.
    void notify();

private:
    boost::asio::awaitable<void> check_loop();
    void wake_all();

    boost::asio::any_io_executor executor_;
    generation_reader read_generation_;
    std::chrono::milliseconds check_every_;
    std::int64_t generation_ = 0;
    bool stopped_ = false;
    std::list<boost::asio::steady_timer*> waiters_;
    std::shared_ptr<boost::asio::steady_timer> check_timer_;
};

} // namespace certfleet::app

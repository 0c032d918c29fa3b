#pragma once
// At most `width` coroutines at once inside a stretch of work, the others waiting their turn,
// first come first served. Two users: the agents' long-polls pass one before they gather and seal
// a bundle (a renewal wakes every poll at once, and ten thousand bundles gathered together waited
// for the sealing threads in memory, 70 MiB above the resting server in bench/agents, while a few
// in flight keep those threads as busy); and an ACME account's newOrder requests go one at a time
// (acme/client.hpp).
//
// A pass is held for as long as its holder keeps it (moved, not copied) and handed to the longest
// waiter when released. A waiter whose coroutine is destroyed leaves the queue; a pass may
// outlive the gate (the state they share is kept alive by both).
// Thread safety: everything runs on the executor given at construction.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>

namespace certfleet::net {

class work_gate
{
    struct state;

public:
    class pass
    {
    public:
        pass() = default;
        pass(pass&& other) noexcept = default;
        pass& operator=(pass&& other) noexcept;
        pass(const pass&) = delete;
        pass& operator=(const pass&) = delete;
        ~pass();

    private:
        friend class work_gate;
        explicit pass(std::shared_ptr<state> s) : state_(std::move(s)) {}
        void release();
        std::shared_ptr<state> state_;
    };

    // `width` at least 1.
    work_gate(boost::asio::any_io_executor executor, std::size_t width);

    // Returns at once while fewer than `width` passes are held and nobody waits; else when a
    // pass is released to this caller.
    [[nodiscard]] boost::asio::awaitable<pass> enter();

    [[nodiscard]] std::size_t inside() const noexcept;
    [[nodiscard]] std::size_t waiting() const noexcept;

private:
    std::shared_ptr<state> state_;
};

} // namespace certfleet::net

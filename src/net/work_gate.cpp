#include "net/work_gate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <list>

namespace certfleet::net {
namespace asio = boost::asio;

struct work_gate::state
{
    // Lives in the waiting coroutine's frame.
    struct waiter
    {
        asio::steady_timer timer;
        bool admitted = false;
    };

    // Keeps a waiter in the queue while its coroutine waits; takes it out when the coroutine
    // ends without being admitted (destroyed while it waited).
    class place
    {
    public:
        place(state& s, waiter& w)
            : state_(s), waiter_(w), it_(s.waiters.insert(s.waiters.end(), &w))
        {}
        place(const place&) = delete;
        place& operator=(const place&) = delete;
        ~place()
        {
            if (!waiter_.admitted) { // an admitted waiter's entry is gone already
                state_.waiters.erase(it_);
            }
        }

    private:
        state& state_;
        waiter& waiter_;
        std::list<waiter*>::iterator it_;
    };

    asio::any_io_executor executor;
    std::size_t width;
    std::size_t inside = 0;
    std::list<waiter*> waiters; // longest waiting first

    // A released pass goes to the longest waiter, else back to the gate.
    void leave()
    {
        if (waiters.empty()) {
            --inside;
            return;
        }
        waiter* next = waiters.front();
        waiters.pop_front();
        next->admitted = true;
        next->timer.cancel();
    }
};

work_gate::pass& work_gate::pass::operator=(pass&& other) noexcept
{
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
    }
    return *this;
}

work_gate::pass::~pass()
{
    release();
}

void work_gate::pass::release()
{
    if (state_) {
        state_->leave();
        state_.reset();
    }
}

work_gate::work_gate(asio::any_io_executor executor, std::size_t width)
    : state_(std::make_shared<state>())
{
    state_->executor = std::move(executor);
    state_->width = width == 0 ? 1 : width;
}

asio::awaitable<work_gate::pass> work_gate::enter()
{
    const auto s = state_;
    if (s->inside < s->width && s->waiters.empty()) {
        ++s->inside;
        co_return pass{s};
    }
    // The timer never expires: the release that admits this waiter cancels it, and so may a
    // cancellation of the awaiting operation, which then ends here without a pass.
    state::waiter w{asio::steady_timer(s->executor, asio::steady_timer::time_point::max())};
    {
        const state::place in_queue(*s, w);
        (void)co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (!w.admitted) {
        throw boost::system::system_error(asio::error::operation_aborted);
    }
    co_return pass{s};
}

std::size_t work_gate::inside() const noexcept
{
    return state_->inside;
}

std::size_t work_gate::waiting() const noexcept
{
    return state_->waiters.size();
}

} // namespace certfleet::net

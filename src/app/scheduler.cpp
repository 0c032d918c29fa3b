#include "app/scheduler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/log.hpp"
#include "app/planning.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using clock = std::chrono::system_clock;

// Someone waiting for a run to finish: a timer that never fires on its own, cancelled when the
// result is in.
struct scheduler::waiter
{
    explicit waiter(asio::any_io_executor e) : wake(std::move(e), clock::time_point::max()) {}
    asio::system_timer wake;
    std::optional<run_result> result;
};

scheduler::scheduler(
    asio::any_io_executor executor,
    core::store& store,
    issuer& runs,
    const server_settings& settings
)
    : executor_(executor), store_(store), issuer_(runs), settings_(settings), timer_(executor)
{}

void scheduler::start()
{
    const auto now = clock::now();
    auto rows = store_.planning_rows();
    if (!rows) {
        log(level::error, "cannot read the certificates to plan: " + rows.error().message());
    } else {
        for (const auto& row : *rows) {
            push(row.certificate_id, next_wake(row, settings_.renewal, now).at);
        }
    }
    if (auto open = store_.unfinished_orders()) {
        for (const auto& o : *open) {
            push(o.certificate_id, now); // resume what a crash interrupted, at once
        }
        if (!open->empty()) {
            log(level::info, "resuming " + std::to_string(open->size()) + " order(s) in flight");
        }
    }
    started_ = true;
    asio::co_spawn(executor_, wake_loop(), asio::detached);
}

void scheduler::stop()
{
    stopped_ = true;
    timer_.cancel();
}

void scheduler::push(core::row_id id, clock::time_point at)
{
    due_[id] = at;
    queue_.emplace(at, id);
    if (started_ && at < timer_.expiry()) {
        timer_.cancel(); // the loop wakes and sleeps again until this sooner time
    }
}

void scheduler::reschedule(core::row_id id, std::optional<clock::time_point> not_before)
{
    auto cert = store_.get_certificate(id);
    if (!cert || cert->state == core::certificate_state::revoked) {
        due_.erase(id);
        return;
    }
    const auto at = next_wake(row_of(id, *cert), settings_.renewal, clock::now()).at;
    push(id, not_before ? std::max(at, *not_before) : at);
}

core::planning_row scheduler::row_of(core::row_id id, const core::certificate_record& cert)
{
    auto version = store_.latest_version(id);
    return planning_row_of(cert, version ? *version : std::optional<core::certificate_version>{});
}

asio::awaitable<void> scheduler::wake_loop()
{
    while (!stopped_) {
        // Entries whose certificate was planned again since are stale: skip them.
        while (!queue_.empty()) {
            const auto [at, id] = queue_.top();
            const auto it = due_.find(id);
            if (it != due_.end() && it->second == at) {
                break;
            }
            queue_.pop();
        }
        timer_.expires_at(queue_.empty() ? clock::time_point::max() : queue_.top().first);
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (stopped_) {
            break;
        }
        start_due(clock::now());
    }
}

void scheduler::start_due(clock::time_point now)
{
    while (!queue_.empty() && queue_.top().first <= now) {
        const auto [at, id] = queue_.top();
        queue_.pop();
        const auto it = due_.find(id);
        if (it == due_.end() || it->second != at) {
            continue;
        }
        due_.erase(it);
        if (running_.contains(id)) {
            continue; // it is running: finishing plans it again
        }
        auto cert = store_.get_certificate(id);
        if (cert && next_wake(row_of(id, *cert), settings_.renewal, now).kind ==
                        wake_kind::refresh_window) {
            start_later(refresh_then_plan(id));
            continue;
        }
        admit(id, cert ? cert->spec.ca : ca_of(id)); // the row just read names its CA
    }
}

std::string scheduler::ca_of(core::row_id id)
{
    auto cert = store_.get_certificate(id);
    return cert ? cert->spec.ca : std::string("default");
}

void scheduler::admit(core::row_id id, const std::string& ca)
{
    running_.try_emplace(id);
    const auto* configured = find_ca(settings_, ca);
    const unsigned bound = configured != nullptr ? configured->max_concurrent_orders : 1;
    if (active_[ca] >= bound) {
        waiting_[ca].push_back(id);
        precheck_ahead(ca, bound);
        return;
    }
    ++active_[ca];
    start_later(run_one(id, ca));
}

void scheduler::start_later(asio::awaitable<void> job)
{
    // co_spawn runs a coroutine at once when called on its executor's thread. A job that ends
    // without waiting (its preflight off, its certificate gone) would then start the next one
    // from inside itself, one level deeper on the stack per certificate in the queue.
    asio::post(executor_, [this, job = std::move(job)]() mutable {
        if (!stopped_) {
            asio::co_spawn(executor_, std::move(job), asio::detached);
        }
    });
}

void scheduler::precheck_ahead(const std::string& ca, unsigned bound)
{
    // The front of the queue, in order: those are the next to run.
    const auto& queue = waiting_[ca];
    auto& ahead = prechecked_front_[ca];
    auto& in_flight = prechecking_[ca];
    while (ahead < queue.size() && in_flight < bound) {
        ++in_flight;
        start_later(precheck_one(queue[ahead++], ca, bound));
    }
}

asio::awaitable<void> scheduler::precheck_one(core::row_id id, std::string ca, unsigned bound)
{
    try {
        co_await issuer_.precheck(id);
    } catch (const std::exception& e) {
        // The run checks again and reports it.
        log(level::debug, "certificate " + std::to_string(id) + ": preflight ahead: " + e.what());
    }
    --prechecking_[ca];
    if (!stopped_) {
        precheck_ahead(ca, bound);
    }
}

asio::awaitable<void> scheduler::refresh_then_plan(core::row_id id)
{
    co_await issuer_.refresh_window(id);
    if (!stopped_) {
        reschedule(id);
    }
}

asio::awaitable<void> scheduler::run_one(core::row_id id, std::string ca)
{
    run_result result;
    try {
        result = co_await issuer_.run(id);
    } catch (const std::exception& e) {
        result.certificate_id = id;
        result.outcome = run_outcome::failed;
        result.problem = std::string("internal error: ") + e.what();
        result.reason = "internal";
        log(level::error, "certificate " + std::to_string(id) + ": " + result.problem);
    }
    finish(id, ca, result);
}

void scheduler::finish(core::row_id id, const std::string& ca, const run_result& result)
{
    --active_[ca];
    issuer_.count(ca, result);
    auto waiters = std::move(running_[id]);
    running_.erase(id);
    for (auto& w : waiters) {
        w->result = result;
        w->wake.cancel();
    }
    if (on_result) {
        on_result(result);
    }
    if (!stopped_) {
        if (result.outcome == run_outcome::busy) {
            push(id, clock::now() + std::chrono::seconds(30));
        } else if (started_) {
            // A failed run's own next attempt is a floor: when the store could not record it,
            // the stored plan still says "due now".
            reschedule(
                id, result.outcome == run_outcome::issued ? std::nullopt : result.next_attempt_at
            );
        }
        auto& queue = waiting_[ca];
        if (!queue.empty()) {
            const auto next = queue.front();
            queue.pop_front();
            auto& ahead = prechecked_front_[ca];
            ahead -= ahead > 0 ? 1 : 0;
            ++active_[ca];
            start_later(run_one(next, ca));
        }
    }
}

asio::awaitable<run_result> scheduler::run_now(core::row_id id)
{
    auto w = std::make_shared<waiter>(executor_);
    const bool running = running_.contains(id);
    running_[id].push_back(w);
    if (!running) {
        due_.erase(id);
        admit(id, ca_of(id));
    }
    while (!w->result) {
        boost::system::error_code ec;
        co_await w->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return std::move(*w->result);
}

scheduler::batch::batch(asio::any_io_executor e) : wake(std::move(e), clock::time_point::max()) {}

namespace {

asio::awaitable<void> collect(scheduler& s, core::row_id id, std::shared_ptr<scheduler::batch> into)
{
    auto result = co_await s.run_now(id);
    into->results.push_back(std::move(result));
    into->wake.cancel();
}

} // namespace

std::shared_ptr<scheduler::batch> scheduler::start_all_now(const std::vector<core::row_id>& ids)
{
    auto b = std::make_shared<batch>(executor_);
    for (auto id : ids) {
        asio::co_spawn(executor_, collect(*this, id, b), asio::detached);
    }
    return b;
}

asio::awaitable<std::vector<run_result>> scheduler::run_all_now(std::vector<core::row_id> ids)
{
    auto b = start_all_now(ids);
    while (b->results.size() < ids.size()) {
        b->wake.expires_at(clock::time_point::max());
        boost::system::error_code ec;
        co_await b->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return std::move(b->results);
}

} // namespace certfleet::app

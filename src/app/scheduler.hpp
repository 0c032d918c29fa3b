#pragma once
// The scheduler: a priority queue of due times, one timer for the earliest (it sleeps until
// then, it does not scan), and a bound on the orders each CA has running at once; work past
// the bound waits its turn. A certificate never runs twice at once in this process (and the
// store's lock keeps other processes out).
//
// Runs on the issuer's executor; not thread-safe.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/system_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <unordered_map>

#include "app/issuer.hpp"

namespace certfleet::app {

class scheduler
{
public:
    scheduler(
        boost::asio::any_io_executor executor,
        core::store& store,
        issuer& runs,
        const server_settings& settings
    );

    // Plans every certificate from the store (orders a crash left open are due at once) and
    // starts waking at due times.
    void start();
    // Stops starting new runs. Runs in flight keep their state in the store: a restart
    // resumes them.
    void stop();

    // Plans one certificate again (added, changed, finished): the timer moves when it is due
    // sooner. `not_before`: a run's own next attempt, kept when the store could not record it
    // (a full disk), so that an unwritable store does not make the certificate due at once.
    void reschedule(
        core::row_id id,
        std::optional<std::chrono::system_clock::time_point> not_before = std::nullopt
    );

    // Runs the certificate now, whatever its plan, within its CA's bound; when it is running
    // already, waits for that run. Resolves with the run's result.
    boost::asio::awaitable<run_result> run_now(core::row_id id);

    // Runs every one now, at once (each within its CA's bound). `results` grows as each
    // finishes, in the order they finish, and `wake` is cancelled each time.
    struct batch
    {
        explicit batch(boost::asio::any_io_executor e);
        boost::asio::system_timer wake;
        std::vector<run_result> results;
    };
    [[nodiscard]] std::shared_ptr<batch> start_all_now(const std::vector<core::row_id>& ids);
    // The same, resolving when all have finished.
    boost::asio::awaitable<std::vector<run_result>> run_all_now(std::vector<core::row_id> ids);

    // Called with every finished run.
    std::function<void(const run_result&)> on_result;

    [[nodiscard]] std::size_t queued() const noexcept { return due_.size(); }

private:
    struct waiter;
    using entry = std::pair<std::chrono::system_clock::time_point, core::row_id>;

    boost::asio::awaitable<void> wake_loop();
    void start_due(std::chrono::system_clock::time_point now);
    void admit(core::row_id id, const std::string& ca);
    boost::asio::awaitable<void> run_one(core::row_id id, std::string ca);
    boost::asio::awaitable<void> refresh_then_plan(core::row_id id);
    void start_later(boost::asio::awaitable<void> job);
    // Preflights of the next certificates waiting past their CA's bound, at most `bound` at once,
    // so that each order starts as soon as a slot frees (issuer::precheck).
    void precheck_ahead(const std::string& ca, unsigned bound);
    boost::asio::awaitable<void> precheck_one(core::row_id id, std::string ca, unsigned bound);
    [[nodiscard]] core::planning_row row_of(core::row_id id, const core::certificate_record& cert);
    void finish(core::row_id id, const std::string& ca, const run_result& result);
    void push(core::row_id id, std::chrono::system_clock::time_point at);
    [[nodiscard]] std::string ca_of(core::row_id id);

    boost::asio::any_io_executor executor_;
    core::store& store_;
    issuer& issuer_;
    const server_settings& settings_;
    boost::asio::system_timer timer_;
    bool started_ = false;
    bool stopped_ = false;
    std::priority_queue<entry, std::vector<entry>, std::greater<>> queue_;
    std::unordered_map<core::row_id, std::chrono::system_clock::time_point> due_;
    std::map<core::row_id, std::vector<std::shared_ptr<waiter>>> running_;
    std::map<std::string, std::deque<core::row_id>> waiting_; // by CA, past its bound
    std::map<std::string, unsigned> active_;                  // runs started, by CA
    std::map<std::string, std::size_t> prechecked_front_;     // waiting entries prechecked, by CA
    std::map<std::string, unsigned> prechecking_;             // prechecks in flight, by CA
};

} // namespace certfleet::app

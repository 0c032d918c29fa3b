#include "app/deploy_journal.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/log.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace asio = boost::asio;

struct deploy_journal::pending
{
    explicit pending(asio::any_io_executor e)
        : done(std::move(e), asio::steady_timer::time_point::max())
    {}
    core::row_id agent_id = 0;
    prepared_report report;
    asio::steady_timer done; // never expires: cancelled when the result is in
    std::optional<core::store_result<void>> result;
};

deploy_journal::deploy_journal(asio::any_io_executor executor, core::store& store)
    : executor_(std::move(executor)), store_(store)
{}

deploy_journal::~deploy_journal()
{
    *alive_ = false;
}

asio::awaitable<core::store_result<void>>
deploy_journal::record(core::row_id agent_id, prepared_report report)
{
    auto p = std::make_shared<pending>(executor_);
    p->agent_id = agent_id;
    p->report = std::move(report);
    reports_.push_back(p);
    schedule();
    while (!p->result) {
        boost::system::error_code woken;
        co_await p->done.async_wait(asio::redirect_error(asio::use_awaitable, woken));
        if (!*alive_ && !p->result) {
            co_return make_error_code(boost::system::errc::operation_canceled);
        }
    }
    co_return *p->result;
}

void deploy_journal::note_contact(agent_contact contact)
{
    const auto id = contact.agent_id;
    contacts_.insert_or_assign(id, std::move(contact));
    schedule();
}

void deploy_journal::schedule()
{
    if (scheduled_) {
        return;
    }
    scheduled_ = true;
    // Runs after the handlers already ready: the requests that arrived together share a commit.
    asio::post(executor_, [this, alive = alive_] {
        if (*alive) {
            flush();
        }
    });
}

void deploy_journal::flush()
{
    scheduled_ = false;
    auto reports = std::move(reports_);
    auto contacts = std::move(contacts_);
    reports_.clear();
    contacts_.clear();
    std::vector<core::store_result<void>> results(reports.size());
    auto& deployments = store_.deployments();
    const auto committed = store_.in_transaction([&]() -> core::store_result<void> {
        for (const auto& [id, c] : contacts) {
            if (auto r = deployments.record_contact(id, c.address, c.version, c.at); !r) {
                return r.error();
            }
        }
        for (std::size_t i = 0; i < reports.size(); ++i) {
            results[i] = write_report(store_, reports[i]->agent_id, reports[i]->report);
            if (!results[i] && results[i].error() != core::errc::not_found) {
                return results[i].error();
            }
        }
        return {};
    });
    if (!committed) {
        log(level::warn, "cannot record " + std::to_string(reports.size()) +
                             " agent report(s): " + committed.error().message());
    }
    ++batches_;
    for (std::size_t i = 0; i < reports.size(); ++i) {
        reports[i]->result = committed ? results[i] : core::store_result<void>(committed.error());
        reports[i]->done.cancel();
        reports_written_ += committed && results[i] ? 1 : 0;
    }
}

} // namespace certfleet::app

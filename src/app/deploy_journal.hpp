#pragma once
// The writes of agent traffic, gathered into one store transaction per turn of the I/O loop.
// After a renewal thousands of agents report within seconds; a commit for each report, its event
// and each agent's last contact made the store the server's largest cost (bench/agents).
//
// A report is acknowledged only once its transaction committed: record() resolves then, with the
// outcome of that report (not_found when the assignment is not the agent's; the store's error for
// all of the batch when the commit failed). Contacts are not waited for: a contact lost to a
// failed commit is written again at the agent's next request.
//
// Thread safety: everything on the executor given at construction.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <vector>

#include "app/deploy_service.hpp"
#include "core/store.hpp"

namespace certfleet::app {

class deploy_journal
{
public:
    deploy_journal(boost::asio::any_io_executor executor, core::store& store);
    ~deploy_journal();
    deploy_journal(const deploy_journal&) = delete;
    deploy_journal& operator=(const deploy_journal&) = delete;

    [[nodiscard]] boost::asio::awaitable<core::store_result<void>>
    record(core::row_id agent_id, prepared_report report);
    void note_contact(agent_contact contact);

    // Batches written so far, and the reports in them (for tests and metrics).
    [[nodiscard]] std::uint64_t batches() const noexcept { return batches_; }
    [[nodiscard]] std::uint64_t reports() const noexcept { return reports_written_; }

private:
    struct pending;
    void schedule();
    void flush();

    boost::asio::any_io_executor executor_;
    core::store& store_;
    std::vector<std::shared_ptr<pending>> reports_;
    std::map<core::row_id, agent_contact> contacts_; // the newest per agent
    bool scheduled_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::uint64_t batches_ = 0;
    std::uint64_t reports_written_ = 0;
};

} // namespace certfleet::app

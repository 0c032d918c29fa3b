#include "app/sweep.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>
#include <set>

#include "app/config_file.hpp"
#include "app/control.hpp"
#include "app/log.hpp"
#include "app/planning.hpp"
#include "app/runtime.hpp"
#include "core/challenge_name.hpp"

namespace certfleet::app {
namespace asio = boost::asio;
using clock = std::chrono::system_clock;

namespace {

bool holds_any(const core::certificate_record& c, const std::set<std::string>& names)
{
    for (const auto& n : c.spec.names) {
        if (names.contains(core::lower_name(n))) {
            return true;
        }
    }
    return false;
}

} // namespace

std::vector<planned_renewal> select_renewals(
    core::store& store,
    const server_settings& settings,
    const sweep_selection& selection,
    clock::time_point now
)
{
    std::vector<planned_renewal> out;
    const bool by_plan = !selection.all && selection.names.empty() && selection.ids.empty();
    auto rows = store.planning_rows();
    if (!rows) {
        return out;
    }
    std::set<std::string> names;
    for (const auto& n : selection.names) {
        names.insert(core::lower_name(n));
    }
    const std::set<core::row_id> ids(selection.ids.begin(), selection.ids.end());
    for (const auto& row : *rows) {
        const auto plan = plan_for(row, settings.renewal, now);
        if (by_plan && plan.renew_at > now) {
            continue;
        }
        if (!ids.empty() && !ids.contains(row.certificate_id)) {
            continue;
        }
        auto cert = store.get_certificate(row.certificate_id);
        if (!cert || (!names.empty() && !holds_any(*cert, names))) {
            continue;
        }
        std::string reason(core::to_string(plan.reason));
        if (!by_plan && plan.renew_at > now) {
            reason = "asked for (" + reason + " at " +
                     std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        plan.renew_at.time_since_epoch()
                     )
                                        .count()) +
                     ")";
        }
        out.push_back({row.certificate_id, cert->spec.names, plan.renew_at, reason, plan.alert});
    }
    return out;
}

namespace {

std::optional<sweep_mode> run_here(
    const server_settings& settings,
    state& opened,
    const std::vector<core::row_id>& ids,
    const sweep_options& options,
    const std::function<void(const run_result&)>& on_result
)
{
    asio::io_context io(1);
    runtime rt(io, settings, opened);
    if (!rt.start_dns()) {
        return std::nullopt;
    }
    const auto deadline = clock::now() + options.deadline;
    auto remaining = ids.size();
    for (auto id : ids) {
        asio::co_spawn(
            io,
            [&, id]() -> asio::awaitable<void> {
                for (;;) {
                    auto result = co_await rt.scheduler().run_now(id);
                    const bool again = result.outcome == run_outcome::retrying &&
                                       result.next_attempt_at && *result.next_attempt_at < deadline;
                    if (!again) {
                        on_result(result);
                        break;
                    }
                    asio::system_timer wait(io, *result.next_attempt_at);
                    co_await wait.async_wait(asio::use_awaitable);
                }
                if (--remaining == 0) {
                    rt.stop();
                    io.stop();
                }
            },
            asio::detached
        );
    }
    if (remaining == 0) {
        rt.stop();
    }
    io.run();
    return sweep_mode::local;
}

} // namespace

std::optional<sweep_mode> run_renewals(
    const server_settings& settings,
    state& opened,
    const std::vector<core::row_id>& ids,
    const sweep_options& options,
    const std::function<void(const run_result&)>& on_result
)
{
    if (auto server = control_client::connect(settings.control_socket)) {
        std::set<core::row_id> reported;
        const bool finished = server->renew(ids, [&](const run_result& r) {
            reported.insert(r.certificate_id);
            on_result(r);
        });
        if (!finished) {
            std::cerr << "certfleet: the running server went away during the sweep; "
                      << "run it again once `certfleet serve` is back.\n";
            for (auto id : ids) {
                if (!reported.contains(id)) {
                    run_result lost;
                    lost.certificate_id = id;
                    lost.outcome = run_outcome::retrying;
                    lost.problem = "the server stopped before this renewal finished";
                    on_result(lost);
                }
            }
        }
        return sweep_mode::server;
    }
    return run_here(settings, opened, ids, options, on_result);
}

} // namespace certfleet::app

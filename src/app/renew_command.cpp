// certfleet renew: the CI sweep. Renews what is due (or --all, --name N), in a running server
// or here; a table on a terminal, --json for programs, --junit for CI dashboards. Exit 0 when
// every renewal succeeded or nothing was due, 1 when any failed (or a certificate will expire
// before its next attempt), 2 for usage or configuration errors.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/control.hpp"
#include "app/log.hpp"
#include "app/renew_report.hpp"
#include "app/rest_client.hpp"
#include "app/sweep.hpp"

namespace certfleet::app {
namespace {

struct renew_options
{
    std::string config_file;
    bool due = false;
    bool all = false;
    std::vector<std::string> names;
    std::vector<core::row_id> ids;
    bool dry_run = false;
    bool json = false;
    std::string junit_file;
    int deadline_s = 900;
    bool verbose = false;
    remote_options remote;
};

} // namespace

// The sweep run by a remote server: the same plan, results and report as a local one.
int run_remote_sweep(
    const remote_options& remote, const sweep_selection& selection, const sweep_output& output
)
{
    return with_rest("", remote, [&](rest_client& api) {
        const auto started = std::chrono::system_clock::now();
        nlohmann::json request{
            {"all", selection.all},
            {"names", selection.names},
            {"ids", selection.ids},
            {"dry_run", output.dry_run}};
        auto reply = api.call(boost::beast::http::verb::post, "/api/v1/renewals", request);
        if (!reply.ok()) {
            return report_failure(reply);
        }
        std::vector<planned_renewal> planned;
        for (const auto& p : reply.body["planned"]) {
            planned_renewal r;
            r.id = p["id"].get<core::row_id>();
            r.names = p["names"].get<std::vector<std::string>>();
            r.renew_at = parse_time(p["renew_at"].get<std::string>()).value_or(started);
            r.reason = p.value("reason", std::string());
            r.alert = p.value("alert", false);
            planned.push_back(std::move(r));
        }
        if (output.dry_run) {
            print_plan(planned, output, started);
            return exit_ok;
        }
        std::vector<run_result> results;
        for (const auto& r : reply.body["results"]) {
            results.push_back(run_result_from_json(r));
        }
        return report_sweep(planned, results, sweep_mode::server, output, started);
    });
}

int run_sweep(
    const std::string& config_file,
    const sweep_selection& selection,
    const sweep_output& output,
    std::chrono::seconds deadline,
    const remote_options& remote
)
{
    if (remote_requested(remote)) {
        return run_remote_sweep(remote, selection, output);
    }
    return with_state(config_file, [&](const server_settings& s, state& st) {
        const auto started = std::chrono::system_clock::now();
        const auto planned = select_renewals(*st.store, s, selection, started);
        if (output.dry_run) {
            print_plan(planned, output, started);
            return exit_ok;
        }
        std::vector<core::row_id> ids;
        for (const auto& p : planned) {
            ids.push_back(p.id);
        }
        std::vector<run_result> results;
        const bool terminal = ::isatty(STDERR_FILENO) != 0 && !output.json;
        if (terminal && !ids.empty()) {
            std::cerr << "renewing " << ids.size() << " certificate(s)...\n";
        }
        const auto mode =
            ids.empty()
                ? std::optional<sweep_mode>(sweep_mode::local)
                : run_renewals(s, st, ids, sweep_options{deadline}, [&](const run_result& r) {
                      results.push_back(r);
                      if (terminal) {
                          std::cerr << "[" << results.size() << "/" << ids.size() << "] "
                                    << join(r.names, ",") << ": " << to_string(r.outcome) << '\n';
                      }
                  });
        if (!mode) {
            return exit_failure;
        }
        return report_sweep(planned, results, *mode, output, started);
    });
}

void add_renew_command(CLI::App& app, command_runner& run)
{
    auto o = std::make_shared<renew_options>();
    auto* cmd = app.add_subcommand(
        "renew", "The renewal sweep (for CI): renew what is due now; exit 1 when any renewal fails"
    );
    add_config_option(*cmd, o->config_file);
    add_remote_options(*cmd, o->remote);
    cmd->add_flag("--due", o->due, "Renew what is due now (the default)");
    cmd->add_flag("--all", o->all, "Renew every certificate that is not revoked");
    cmd->add_option("--name", o->names, "Renew the certificates holding this name (repeat)");
    cmd->add_option("--id", o->ids, "Renew this certificate (repeat)");
    cmd->add_flag("--dry-run", o->dry_run, "List what would be renewed and why; change nothing");
    cmd->add_flag("--json", o->json, "One JSON document on stdout");
    cmd->add_option("--junit", o->junit_file, "Write a JUnit XML report to this file");
    cmd->add_option("--deadline-s", o->deadline_s, "Retry transient failures within this time")
        ->check(CLI::Range(0, 86400));
    cmd->add_flag("-v,--verbose", o->verbose, "Log debug messages (each order's steps)");
    cmd->footer("Exit codes: 0 all renewed or nothing due, 1 a renewal failed or a certificate "
                "expires before its next attempt, 2 usage or configuration error.");
    cmd->callback([o, &run] {
        run = [o] {
            if (o->verbose) {
                set_log_level(level::debug);
            }
            sweep_selection selection{o->all, o->names, o->ids};
            sweep_output output{o->dry_run, o->json, o->junit_file};
            return run_sweep(
                o->config_file, selection, output, std::chrono::seconds(o->deadline_s), o->remote
            );
        };
    });
}

} // namespace certfleet::app

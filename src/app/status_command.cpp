// certfleet status: certificates by state, the next renewals, failures with the CA's own words,
// expiry alerts. certfleet backup FILE: a consistent copy of the store while the server runs.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/rest_client.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace {

struct status_options
{
    std::string config_file;
    bool json = false;
    std::string backup_file;
    remote_options remote;
};

int show_status(const status_options& o)
{
    return with_rest(o.config_file, o.remote, [&](rest_client& api) {
        auto reply = api.call(boost::beast::http::verb::get, "/api/v1/status");
        if (!reply.ok()) {
            return report_failure(reply);
        }
        const auto& j = reply.body;
        const bool alerted = !j["alerts"].empty();
        if (o.json) {
            std::cout << j.dump(2) << '\n';
            return alerted ? exit_failure : exit_ok;
        }
        const auto now = std::chrono::system_clock::now();
        std::cout << j["certificates"].get<std::size_t>() << " certificate(s):";
        for (const auto& [state_name, n] : j["by_state"].items()) {
            std::cout << ' ' << n.get<int>() << ' ' << state_name;
        }
        std::cout << "\nearliest expiry: "
                  << (j["earliest_expiry"].is_string() ? j["earliest_expiry"].get<std::string>()
                                                       : "-")
                  << '\n';
        if (!j["next_renewals"].empty()) {
            std::cout << "\nnext renewals:\n";
            std::vector<std::vector<std::string>> rows;
            for (const auto& c : j["next_renewals"]) {
                const auto at = parse_time(c["at"].get<std::string>());
                rows.push_back(
                    {std::to_string(c["id"].get<core::row_id>()),
                     join(c["names"].get<std::vector<std::string>>(), ","),
                     at ? relative_time(*at, now) : "-"}
                );
            }
            print_table(std::cout, {"ID", "NAMES", "WHEN"}, rows);
        }
        if (!j["failures"].empty()) {
            std::cout << "\nproblems:\n";
            for (const auto& f : j["failures"]) {
                std::cout << "  " << f["id"].get<core::row_id>() << " "
                          << f["state"].get<std::string>() << ": "
                          << f["problem"].get<std::string>() << '\n';
            }
        }
        if (alerted) {
            std::cout << "\nALERTS:\n";
            for (const auto& a : j["alerts"]) {
                std::cout << "  certificate " << a["id"].get<core::row_id>()
                          << " expires before its next renewal attempt\n";
            }
        }
        return alerted ? exit_failure : exit_ok;
    });
}

int backup(const status_options& o)
{
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        auto done = st.store->backup_to(o.backup_file);
        if (!done) {
            std::cerr << "certfleet: cannot back up to " << o.backup_file << ": "
                      << done.error().message()
                      << (done.error() == core::errc::already_exists ? " (choose a new file name)"
                                                                     : "")
                      << '\n';
            return exit_failure;
        }
        std::cout << "backed up " << s.database << " to " << o.backup_file
                  << ". Keep the master key (" << s.master_key_file
                  << ") too, stored apart: the keys in the copy are sealed with it.\n";
        return exit_ok;
    });
}

} // namespace

void add_status_command(CLI::App& app, command_runner& run)
{
    auto o = std::make_shared<status_options>();
    auto* status = app.add_subcommand(
        "status", "Certificates by state, next renewals, failures, alerts (exit 1 when any alert)"
    );
    status->add_flag("--json", o->json, "JSON on stdout");
    add_config_option(*status, o->config_file);
    add_remote_options(*status, o->remote);
    status->callback([o, &run] { run = [o] { return show_status(*o); }; });

    auto* b =
        app.add_subcommand("backup", "A consistent copy of the store, taken while the server runs");
    b->add_option("file", o->backup_file, "The new file (never overwritten)")->required();
    add_config_option(*b, o->config_file);
    b->callback([o, &run] { run = [o] { return backup(*o); }; });
}

} // namespace certfleet::app

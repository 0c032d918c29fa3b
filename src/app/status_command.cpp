// certfleet status: certificates by state, the next renewals, failures with the CA's own words,
// expiry alerts. certfleet backup FILE: a consistent copy of the store while the server runs.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "core/errc.hpp"

namespace certfleet::app {
namespace {

struct status_options
{
    std::string config_file;
    bool json = false;
    std::string backup_file;
};

int show_status(const status_options& o)
{
    return with_state(o.config_file, [&](const server_settings&, state& st) {
        auto all = st.store->list_certificates();
        if (!all) {
            std::cerr << "certfleet: " << all.error().message() << '\n';
            return exit_failure;
        }
        const auto now = std::chrono::system_clock::now();
        std::map<std::string, int> by_state;
        std::vector<const core::certificate_record*> upcoming;
        nlohmann::json failures = nlohmann::json::array();
        nlohmann::json alerts = nlohmann::json::array();
        std::optional<std::chrono::system_clock::time_point> earliest_expiry;
        for (const auto& c : *all) {
            ++by_state[std::string(core::to_string(c.state))];
            if (c.state != core::certificate_state::revoked && c.next_attempt_at) {
                upcoming.push_back(&c);
            }
            if (!c.last_problem.empty()) {
                failures.push_back(
                    {{"id", c.id},
                     {"names", c.spec.names},
                     {"state", core::to_string(c.state)},
                     {"problem", c.last_problem}}
                );
            }
            auto v = st.store->latest_version(c.id);
            if (c.alert) {
                alerts.push_back(
                    {{"id", c.id},
                     {"names", c.spec.names},
                     {"not_after",
                      v && *v ? nlohmann::json(format_time((*v)->not_after)) : nlohmann::json()},
                     {"message", "expires before its next renewal attempt"}}
                );
            }
            if (v && *v && c.state != core::certificate_state::revoked &&
                (!earliest_expiry || (*v)->not_after < *earliest_expiry)) {
                earliest_expiry = (*v)->not_after;
            }
        }
        std::sort(upcoming.begin(), upcoming.end(), [](auto* a, auto* b) {
            return *a->next_attempt_at < *b->next_attempt_at;
        });
        if (upcoming.size() > 10) {
            upcoming.resize(10);
        }
        if (o.json) {
            nlohmann::json out{
                {"certificates", all->size()},
                {"by_state", by_state},
                {"next_renewals", nlohmann::json::array()},
                {"failures", failures},
                {"alerts", alerts},
                {"earliest_expiry", earliest_expiry ? nlohmann::json(format_time(earliest_expiry))
                                                    : nlohmann::json()}};
            for (const auto* c : upcoming) {
                out["next_renewals"].push_back(
                    {{"id", c->id},
                     {"names", c->spec.names},
                     {"at", format_time(c->next_attempt_at)}}
                );
            }
            std::cout << out.dump(2) << '\n';
            return alerts.empty() ? exit_ok : exit_failure;
        }
        std::cout << all->size() << " certificate(s):";
        for (const auto& [s, n] : by_state) {
            std::cout << ' ' << n << ' ' << s;
        }
        std::cout << "\nearliest expiry: " << format_time(earliest_expiry) << '\n';
        if (!upcoming.empty()) {
            std::cout << "\nnext renewals:\n";
            std::vector<std::vector<std::string>> rows;
            for (const auto* c : upcoming) {
                rows.push_back(
                    {std::to_string(c->id), join(c->spec.names, ","),
                     relative_time(*c->next_attempt_at, now)}
                );
            }
            print_table(std::cout, {"ID", "NAMES", "WHEN"}, rows);
        }
        if (!failures.empty()) {
            std::cout << "\nproblems:\n";
            for (const auto& f : failures) {
                std::cout << "  " << f["id"].get<core::row_id>() << " "
                          << f["state"].get<std::string>() << ": "
                          << f["problem"].get<std::string>() << '\n';
            }
        }
        if (!alerts.empty()) {
            std::cout << "\nALERTS:\n";
            for (const auto& a : alerts) {
                std::cout << "  certificate " << a["id"].get<core::row_id>()
                          << " expires before its next renewal attempt\n";
            }
        }
        return alerts.empty() ? exit_ok : exit_failure;
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
    status->callback([o, &run] { run = [o] { return show_status(*o); }; });

    auto* b =
        app.add_subcommand("backup", "A consistent copy of the store, taken while the server runs");
    b->add_option("file", o->backup_file, "The new file (never overwritten)")->required();
    add_config_option(*b, o->config_file);
    b->callback([o, &run] { run = [o] { return backup(*o); }; });
}

} // namespace certfleet::app

// certfleet domain add|check|list|remove: the managed names, each delegated once to its own
// label in our zone by a CNAME the operator creates at their DNS provider.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli_support.hpp"
#include "app/commands.hpp"
#include "app/config_file.hpp"
#include "app/preflight.hpp"
#include "core/challenge_name.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "dns/delegation_checker.hpp"
#include "dns/name.hpp"

namespace certfleet::app {
namespace {

struct domain_options
{
    std::string config_file;
    std::vector<std::string> names;
    bool json = false;
    // `check` of a name that is not in the store: the target to expect.
    std::string expect;
    std::vector<std::string> resolvers;
    int timeout_ms = 2000;
};

std::string cname_record(const server_settings& s, const core::domain_record& d)
{
    return "_acme-challenge." + d.name + ". CNAME " + delegation_target(s, d.label) + ".";
}

// The managed name as stored: lower case, no final dot; nullopt with a message when it is not a
// name we can manage.
std::optional<std::string> managed_name(const std::string& text)
{
    auto name = core::lower_name(text);
    if (name.starts_with("*.")) {
        std::cerr << "certfleet: " << text << ": add the name without \"*.\" (" << name.substr(2)
                  << "); a certificate may then ask for the wildcard.\n";
        return std::nullopt;
    }
    if (name.empty() || !dns::canonical_name(name)) {
        std::cerr << "certfleet: '" << text << "' is not a valid DNS name.\n";
        return std::nullopt;
    }
    return name;
}

int add_domains(const domain_options& o)
{
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        nlohmann::json out = nlohmann::json::array();
        int rc = exit_ok;
        for (const auto& text : o.names) {
            auto name = managed_name(text);
            if (!name) {
                rc = exit_usage;
                continue;
            }
            auto existing = st.store->find_domain(*name);
            core::domain_record d;
            if (existing) {
                d = *existing; // stable: the same name keeps its label
            } else {
                auto label = core::random_label();
                if (!label) {
                    std::cerr << "certfleet: cannot draw a label: " << label.error().message()
                              << '\n';
                    return exit_failure;
                }
                d.name = *name;
                d.label = *label;
                if (auto added = st.store->add_domain(d); !added) {
                    std::cerr << "certfleet: cannot add " << *name << ": "
                              << added.error().message() << '\n';
                    return exit_failure;
                }
            }
            out.push_back({
                {"name", d.name},
                {"label", d.label},
                {"target", delegation_target(s, d.label)},
                {"record", cname_record(s, d)},
                {"added", !existing.has_value()},
            });
            if (!o.json) {
                std::cout << (existing ? "already managed: " : "added: ") << d.name
                          << "\nCreate this record at the DNS provider of " << d.name
                          << " (once; it never changes):\n  " << cname_record(s, d) << '\n';
            }
        }
        if (o.json) {
            std::cout << out.dump() << '\n';
        }
        return rc;
    });
}

int list_domains(const domain_options& o)
{
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        auto domains = st.store->list_domains();
        if (!domains) {
            std::cerr << "certfleet: cannot read the domains: " << domains.error().message()
                      << '\n';
            return exit_failure;
        }
        if (o.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& d : *domains) {
                out.push_back({
                    {"name", d.name},
                    {"label", d.label},
                    {"target", delegation_target(s, d.label)},
                    {"record", cname_record(s, d)},
                    {"check", d.check_status},
                    {"check_detail", d.check_detail},
                    {"checked_at",
                     d.checked_at ? nlohmann::json(format_time(d.checked_at)) : nlohmann::json()},
                });
            }
            std::cout << out.dump() << '\n';
            return exit_ok;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& d : *domains) {
            rows.push_back(
                {d.name, delegation_target(s, d.label),
                 d.check_status.empty() ? "never checked" : d.check_status,
                 format_time(d.checked_at)}
            );
        }
        print_table(std::cout, {"NAME", "CNAME TARGET", "LAST CHECK", "CHECKED AT"}, rows);
        return exit_ok;
    });
}

int remove_domains(const domain_options& o)
{
    return with_state(o.config_file, [&](const server_settings&, state& st) {
        auto certificates = st.store->list_certificates();
        if (!certificates) {
            std::cerr << "certfleet: " << certificates.error().message() << '\n';
            return exit_failure;
        }
        int rc = exit_ok;
        for (const auto& text : o.names) {
            const auto name = core::lower_name(text);
            for (const auto& c : *certificates) {
                if (c.state == core::certificate_state::revoked) {
                    continue;
                }
                for (const auto& n : c.spec.names) {
                    if (core::managed_name_for(n) == name) {
                        std::cerr << "certfleet: certificate " << c.id << " still uses " << name
                                  << ": revoke it first (certfleet cert revoke " << c.id << ").\n";
                        return exit_failure;
                    }
                }
            }
            if (auto removed = st.store->remove_domain(name); !removed) {
                std::cerr << "certfleet: cannot remove " << name << ": "
                          << removed.error().message()
                          << (removed.error() == core::errc::not_found
                                  ? " (see certfleet domain list)"
                                  : "")
                          << '\n';
                rc = exit_failure;
                continue;
            }
            std::cout << "removed " << name << "; its CNAME at the DNS provider can go too.\n";
        }
        return rc;
    });
}

// A name outside the store, against an expected target: the delegation alone.
int check_ad_hoc(const domain_options& o)
{
    int rc = exit_ok;
    for (const auto& name : o.names) {
        dns::delegation_check check;
        check.name = name;
        check.expected_target = o.expect;
        check.resolvers = o.resolvers;
        check.timeout = std::chrono::milliseconds(o.timeout_ms);
        const auto report = dns::check_delegation(check);
        if (o.json) {
            nlohmann::json out{
                {"name", name},
                {"challenge_name", report.challenge_name},
                {"expected", report.expected_target},
                {"status", dns::to_string(report.status)},
                {"chain", report.chain},
                {"detail", report.detail},
            };
            std::cout << out.dump() << '\n';
        } else {
            std::cout << report.challenge_name << ": " << dns::to_string(report.status) << "\n  "
                      << report.detail << '\n';
        }
        if (report.status != dns::delegation_status::correct) {
            rc = exit_failure;
        }
    }
    return rc;
}

int check_domains(const domain_options& o)
{
    if (!o.expect.empty()) {
        if (o.names.empty()) {
            std::cerr << "certfleet: --expect needs the name to check.\n";
            return exit_usage;
        }
        return check_ad_hoc(o);
    }
    return with_state(o.config_file, [&](const server_settings& s, state& st) {
        std::vector<core::domain_record> domains;
        if (o.names.empty()) {
            auto all = st.store->list_domains();
            if (all) {
                domains = std::move(*all);
            }
        }
        for (const auto& text : o.names) {
            auto d = st.store->find_domain(core::lower_name(text));
            if (!d) {
                std::cerr << "certfleet: " << text << " is not managed: run `certfleet domain add "
                          << core::lower_name(text)
                          << "` (or pass --expect TARGET to check any name).\n";
                return exit_usage;
            }
            domains.push_back(*d);
        }
        auto settings = s.preflight;
        if (!o.resolvers.empty()) {
            settings.resolvers = o.resolvers;
        }
        settings.timeout = std::chrono::milliseconds(o.timeout_ms);
        preflight_request request;
        for (const auto& d : domains) {
            request.names.push_back({d.name, delegation_target(s, d.label)});
        }
        if (!s.cas.empty()) {
            request.ca_domains = s.cas.front().caa_identities;
        }
        const auto report = run_preflight(request, settings);
        const auto now = std::chrono::system_clock::now();
        nlohmann::json out = nlohmann::json::array();
        for (const auto& v : report.verdicts) {
            if (v.check == "delegation") {
                (void)st.store->record_domain_check(v.name, v.status, v.detail, now);
            }
            out.push_back(
                {{"name", v.name},
                 {"check", v.check},
                 {"ok", v.ok},
                 {"status", v.status},
                 {"detail", v.detail}}
            );
            if (!o.json) {
                std::cout << v.name << ": " << v.check << " " << v.status << "\n  " << v.detail
                          << '\n';
            }
        }
        if (o.json) {
            std::cout << out.dump() << '\n';
        }
        return report.ok ? exit_ok : exit_failure;
    });
}

} // namespace

void add_domain_command(CLI::App& app, command_runner& run)
{
    auto* domain =
        app.add_subcommand("domain", "Managed names and their one-time CNAME delegation");
    domain->require_subcommand(1);
    auto o = std::make_shared<domain_options>();

    auto* add = domain->add_subcommand(
        "add", "Manage names: allocate each a stable label and print the CNAME to create"
    );
    add->add_option("names", o->names, "Names, e.g. www.example.com")->required();
    add_config_option(*add, o->config_file);
    add->add_flag("--json", o->json, "JSON on stdout");
    add->callback([o, &run] { run = [o] { return add_domains(*o); }; });

    auto* check = domain->add_subcommand(
        "check", "Preflight each name (its CNAME, its CAA records): what is right, what to fix; "
                 "exit 0 when all pass"
    );
    check->add_option("names", o->names, "Names (default: every managed name)");
    check->add_option(
        "--expect", o->expect,
        "Check any name against this CNAME target (e.g. k3f9.acme.example.net), without the store"
    );
    check->add_option(
        "--resolver", o->resolvers, "Resolver host:port (default: [preflight] resolvers)"
    );
    check->add_option("--timeout-ms", o->timeout_ms, "Timeout per try")
        ->check(CLI::Range(10, 60000));
    add_config_option(*check, o->config_file);
    check->add_flag("--json", o->json, "JSON on stdout");
    check->callback([o, &run] { run = [o] { return check_domains(*o); }; });

    auto* list =
        domain->add_subcommand("list", "Managed names, their CNAME targets and last check");
    add_config_option(*list, o->config_file);
    list->add_flag("--json", o->json, "JSON on stdout");
    list->callback([o, &run] { run = [o] { return list_domains(*o); }; });

    auto* remove =
        domain->add_subcommand("remove", "Stop managing names (no certificate may use them)");
    remove->add_option("names", o->names, "Names")->required();
    add_config_option(*remove, o->config_file);
    remove->callback([o, &run] { run = [o] { return remove_domains(*o); }; });
}

} // namespace certfleet::app
